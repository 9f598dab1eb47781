package npz

import (
	"unsafe"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// encoder turns frames into rows of float32 arrays of a clip whose
// rotations are unit length (Motion.Unit).
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
		putVec(f[j*3:], motion.QuatToAxisAngle(q))
	}
}

func (e *encoder) localMats(t int, dst []byte) {
	f := floats(dst)
	for j, q := range e.m.Frame(t) {
		putMat(f[j*9:], q)
	}
}

// globalMats encodes frame t's world rotations and keeps its world
// positions for posed.
func (e *encoder) globalMats(t int, dst []byte) {
	e.m.Pose(t, e.pos, e.world)
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

func putVec(f []float32, v mgl64.Vec3) {
	_ = f[2]
	f[0], f[1], f[2] = float32(v[0]), float32(v[1]), float32(v[2])
}

// putMat stores the rotation matrix of the unit quaternion q row-major, the
// order NumPy reads a trailing (3,3): element [r,c] = R[r][c]. It is
// motion.QuatToMat3 written out for unit input (the writer made the clip
// unit with Motion.Unit): that one divides by |q|² and does not inline, and
// this runs twice per joint per frame — 8 ms of a 10k-frame export.
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
