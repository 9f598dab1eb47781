package npz

import (
	"math"
	"unsafe"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// encoder turns frames into rows of float32 arrays. FK runs on normalised
// local rotations so that every array describes the same pose as `poses`.
type encoder struct {
	m        *motion.Motion
	world    []mgl64.Quat // FK of one frame
	pos      []mgl64.Vec3
	posedBuf []byte // posed_joints rows, filled by globalMats
}

func newEncoder(m *motion.Motion, posed []byte) *encoder {
	n := m.Skel.Len()
	return &encoder{m: m, world: make([]mgl64.Quat, n), pos: make([]mgl64.Vec3, n), posedBuf: posed}
}

func (e *encoder) root(t int, dst []byte) { putVec(floats(dst), e.m.Root[t]) }

func (e *encoder) offsets(j int, dst []byte) { putVec(floats(dst), e.m.Skel.Joints[j].Offset) }

func (e *encoder) translations(t int, dst []byte) {
	n, f := e.m.Skel.Len(), floats(dst)
	for j, v := range e.m.Trans[t*n : (t+1)*n] {
		if j == 0 {
			v = e.m.Root[t]
		}
		putVec(f[j*3:], v)
	}
}

func (e *encoder) poses(t int, dst []byte) {
	f := floats(dst)
	for j, q := range e.m.Frame(t) {
		putVec(f[j*3:], axisAngle(q))
	}
}

func (e *encoder) localMats(t int, dst []byte) {
	f := floats(dst)
	for j, q := range e.m.Frame(t) {
		putMat(f[j*9:], unit(q))
	}
}

// globalMats encodes frame t's world rotations and keeps its world
// positions for posed.
func (e *encoder) globalMats(t int, dst []byte) {
	e.fk(t)
	f := floats(dst)
	for j, q := range e.world {
		putMat(f[j*9:], q)
	}
	n := len(e.pos) * 12
	row := floats(e.posedBuf[t*n : (t+1)*n])
	for j, p := range e.pos {
		putVec(row[j*3:], p)
	}
}

func (e *encoder) posed(t int, dst []byte) {
	n := len(e.pos) * 12
	copy(dst, e.posedBuf[t*n:(t+1)*n])
}

// fk fills world rotations and positions of frame t. The quaternion algebra
// is spelled out on scalars: mathgl's methods do not inline, and this runs
// for every joint of every exported frame.
func (e *encoder) fk(t int) {
	m := e.m
	n := m.Skel.Len()
	var trans []mgl64.Vec3
	if m.Trans != nil {
		trans = m.Trans[t*n : (t+1)*n]
	}
	joints := m.Skel.Joints[:n]
	local := m.Frame(t)[:n]
	world, pos := e.world[:n], e.pos[:n]
	world[0], pos[0] = unit(local[0]), m.Root[t]
	for j := 1; j < n; j++ {
		p := joints[j].Parent
		v := joints[j].Offset
		if trans != nil {
			v = trans[j]
		}
		a, b := world[p], unit(local[j])
		ux, uy, uz, w := a.V[0], a.V[1], a.V[2], a.W
		// pos[j] = pos[p] + a·v: v + 2w(u×v) + 2u×(u×v)
		tx := 2 * (uy*v[2] - uz*v[1])
		ty := 2 * (uz*v[0] - ux*v[2])
		tz := 2 * (ux*v[1] - uy*v[0])
		pp := pos[p]
		pos[j] = mgl64.Vec3{
			pp[0] + v[0] + w*tx + uy*tz - uz*ty,
			pp[1] + v[1] + w*ty + uz*tx - ux*tz,
			pp[2] + v[2] + w*tz + ux*ty - uy*tx,
		}
		// world[j] = a·b
		world[j] = mgl64.Quat{
			W: w*b.W - ux*b.V[0] - uy*b.V[1] - uz*b.V[2],
			V: mgl64.Vec3{
				w*b.V[0] + ux*b.W + uy*b.V[2] - uz*b.V[1],
				w*b.V[1] - ux*b.V[2] + uy*b.W + uz*b.V[0],
				w*b.V[2] + ux*b.V[1] - uy*b.V[0] + uz*b.W,
			},
		}
	}
}

// axisAngle is motion.QuatToAxisAngle without normalising first: the axis
// v/|v| and the angle 2·atan2(|v|, |w|) do not depend on the quaternion's
// length, and the sign of w picks the short way round (angle in [0, π]).
func axisAngle(q mgl64.Quat) mgl64.Vec3 {
	x, y, z, w := q.V[0], q.V[1], q.V[2], q.W
	if w < 0 {
		x, y, z, w = -x, -y, -z, -w
	}
	s := math.Sqrt(x*x + y*y + z*z)
	var k float64
	if s < 1e-12*w {
		k = 2 / w // small-angle limit: 2·v/|q|
	} else {
		k = 2 * math.Atan2(s, w) / s
	}
	return mgl64.Vec3{x * k, y * k, z * k}
}

// unit normalises q. motion.Validate admits lengths² within 2e-3 of 1;
// the rotations a model or a resample produce are unit to rounding, and
// skipping the square root for them is a measurable share of FK.
func unit(q mgl64.Quat) mgl64.Quat {
	n2 := q.W*q.W + q.V[0]*q.V[0] + q.V[1]*q.V[1] + q.V[2]*q.V[2]
	if n2 > 1-1e-14 && n2 < 1+1e-14 {
		return q
	}
	k := 1 / math.Sqrt(n2)
	return mgl64.Quat{W: q.W * k, V: mgl64.Vec3{q.V[0] * k, q.V[1] * k, q.V[2] * k}}
}

func putVec(f []float32, v mgl64.Vec3) {
	_ = f[2]
	f[0], f[1], f[2] = float32(v[0]), float32(v[1]), float32(v[2])
}

// putMat stores the rotation matrix of unit quaternion q row-major, the
// order NumPy reads a trailing (3,3): element [r,c] = R[r][c].
func putMat(f []float32, q mgl64.Quat) {
	_ = f[8]
	w, x, y, z := q.W, q.V[0], q.V[1], q.V[2]
	f[0] = float32(1 - 2*(y*y+z*z))
	f[1] = float32(2 * (x*y - w*z))
	f[2] = float32(2 * (x*z + w*y))
	f[3] = float32(2 * (x*y + w*z))
	f[4] = float32(1 - 2*(x*x+z*z))
	f[5] = float32(2 * (y*z - w*x))
	f[6] = float32(2 * (x*z - w*y))
	f[7] = float32(2 * (y*z + w*x))
	f[8] = float32(1 - 2*(x*x+y*y))
}

// floats views an encoded row as float32s, in the host's byte order;
// archive.array swaps the bytes afterwards on a big-endian host. Rows start
// at multiples of 4 bytes in buffers from make, so the view is aligned.
func floats(b []byte) []float32 {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
}
