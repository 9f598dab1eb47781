package motion

import (
	"fmt"
	"math"

	"github.com/go-gl/mathgl/mgl64"
)

// EulerOrder names the order of three elemental rotations as they are
// listed in a BVH CHANNELS line: "ZYX" is R = Rz·Ry·Rx, so the X rotation is
// applied to a vector first. All six Tait–Bryan orders are supported.
type EulerOrder string

// The six Tait–Bryan orders.
const (
	XYZ EulerOrder = "XYZ"
	XZY EulerOrder = "XZY"
	YXZ EulerOrder = "YXZ"
	YZX EulerOrder = "YZX"
	ZXY EulerOrder = "ZXY"
	ZYX EulerOrder = "ZYX"
)

// EulerOrders lists every supported order.
var EulerOrders = []EulerOrder{XYZ, XZY, YXZ, YZX, ZXY, ZYX}

// ParseEulerOrder accepts an order in either case ("zyx" or "ZYX").
func ParseEulerOrder(s string) (EulerOrder, error) {
	for _, o := range EulerOrders {
		if len(s) == 3 && (string(o) == s || string(o) == upper(s)) {
			return o, nil
		}
	}
	return "", fmt.Errorf("unknown Euler order %q (want one of XYZ, XZY, YXZ, YZX, ZXY, ZYX)", s)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// Axes returns the axis indices (0=X, 1=Y, 2=Z) in order; o must be Valid.
func (o EulerOrder) Axes() [3]int {
	return [3]int{int(o[0] - 'X'), int(o[1] - 'X'), int(o[2] - 'X')}
}

// Valid reports whether o is one of the six orders.
func (o EulerOrder) Valid() bool {
	for _, v := range EulerOrders {
		if o == v {
			return true
		}
	}
	return false
}

// EulerToQuat turns per-axis angles in radians (angles[0] about X, [1]
// about Y, [2] about Z) composed in order o into a quaternion.
func EulerToQuat(angles mgl64.Vec3, o EulerOrder) mgl64.Quat {
	ax := o.Axes()
	a, b, c := ax[0], ax[1], ax[2]
	return axisQuat(a, angles[a]).Mul(axisQuat(b, angles[b])).Mul(axisQuat(c, angles[c]))
}

func axisQuat(axis int, angle float64) mgl64.Quat {
	s, c := math.Sincos(angle / 2)
	q := mgl64.Quat{W: c}
	q.V[axis] = s
	return q
}

// QuatToEuler returns per-axis angles in radians (X, Y, Z) that compose in
// order o to q (q need not be unit length). The middle angle is in
// [-π/2, π/2]; at gimbal lock (middle angle ±π/2) the third angle is set to
// zero and the first carries the rest. Exporters call it for every joint of
// every frame, so it takes the matrix from QuatToMat3 and the middle angle with atan2 against its cosine, which is also better
// conditioned than asin near the lock.
func QuatToEuler(q mgl64.Quat, o EulerOrder) mgl64.Vec3 {
	r := QuatToMat3(q)
	m := [3][3]float64{ // m[row][col]; mgl64.Mat3 is column-major
		{r[0], r[3], r[6]},
		{r[1], r[4], r[7]},
		{r[2], r[5], r[8]},
	}
	ax := o.Axes()
	i, j, k := ax[0], ax[1], ax[2]
	// sign is +1 for the cyclic orders XYZ, YZX, ZXY and -1 for the others.
	sign := 1.0
	if (j-i+3)%3 != 1 {
		sign = -1
	}
	var out mgl64.Vec3
	cb := math.Sqrt(m[i][i]*m[i][i] + m[i][j]*m[i][j]) // |cos| of the middle angle; entries are in [-1, 1]
	out[j] = math.Atan2(sign*m[i][k], cb)
	if cb > 1e-9 {
		out[i] = math.Atan2(-sign*m[j][k], m[k][k])
		out[k] = math.Atan2(-sign*m[i][j], m[i][i])
	} else {
		out[i] = math.Atan2(sign*m[k][j], m[j][j])
		out[k] = 0
	}
	return out
}

// QuatToMat3 returns the rotation matrix of a quaternion of any non-zero
// length (the factor 2/|q|² normalises it). Exporters call it for every
// joint of every frame, so it is written on scalars.
func QuatToMat3(q mgl64.Quat) mgl64.Mat3 {
	w, x, y, z := q.W, q.V[0], q.V[1], q.V[2]
	s := 2 / (w*w + x*x + y*y + z*z)
	xx, yy, zz := s*x*x, s*y*y, s*z*z
	xy, xz, yz := s*x*y, s*x*z, s*y*z
	wx, wy, wz := s*w*x, s*w*y, s*w*z
	return mgl64.Mat3{ // column-major
		1 - yy - zz, xy + wz, xz - wy,
		xy - wz, 1 - xx - zz, yz + wx,
		xz + wy, yz - wx, 1 - xx - yy,
	}
}

// Mat3ToQuat returns the unit quaternion of a rotation matrix, with W ≥ 0.
// It takes the square root of the largest of the four candidates
// (Shepperd's method), so no branch divides by a small value, even for
// half turns or matrices that are slightly off orthonormal (decoded 6D).
func Mat3ToQuat(m mgl64.Mat3) mgl64.Quat {
	m00, m01, m02 := m.At(0, 0), m.At(0, 1), m.At(0, 2)
	m10, m11, m12 := m.At(1, 0), m.At(1, 1), m.At(1, 2)
	m20, m21, m22 := m.At(2, 0), m.At(2, 1), m.At(2, 2)
	var q mgl64.Quat
	switch tr := m00 + m11 + m22; {
	case tr >= m00 && tr >= m11 && tr >= m22:
		s := 2 * math.Sqrt(1+tr)
		q = mgl64.Quat{W: s / 4, V: mgl64.Vec3{(m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s}}
	case m00 >= m11 && m00 >= m22:
		s := 2 * math.Sqrt(1+m00-m11-m22)
		q = mgl64.Quat{W: (m21 - m12) / s, V: mgl64.Vec3{s / 4, (m01 + m10) / s, (m02 + m20) / s}}
	case m11 >= m22:
		s := 2 * math.Sqrt(1+m11-m00-m22)
		q = mgl64.Quat{W: (m02 - m20) / s, V: mgl64.Vec3{(m01 + m10) / s, s / 4, (m12 + m21) / s}}
	default:
		s := 2 * math.Sqrt(1+m22-m00-m11)
		q = mgl64.Quat{W: (m10 - m01) / s, V: mgl64.Vec3{(m02 + m20) / s, (m12 + m21) / s, s / 4}}
	}
	return Canonical(q.Normalize())
}

// Canonical returns q or -q, whichever has W ≥ 0 (the same rotation).
func Canonical(q mgl64.Quat) mgl64.Quat {
	if q.W < 0 {
		return mgl64.Quat{W: -q.W, V: q.V.Mul(-1)}
	}
	return q
}

// QuatToAxisAngle returns the rotation vector (unit axis × angle in radians,
// angle in [0, π]) of a quaternion of any non-zero length: the axis v/|v|
// and the angle 2·atan2(|v|, |w|) do not depend on it, and the sign of w
// picks the short way round.
func QuatToAxisAngle(q mgl64.Quat) mgl64.Vec3 {
	x, y, z, w := q.V[0], q.V[1], q.V[2], q.W
	if w < 0 {
		x, y, z, w = -x, -y, -z, -w
	}
	s := math.Sqrt(x*x + y*y + z*z)
	var k float64
	if s < 1e-12*w {
		k = 2 / w // small-angle limit of 2·atan2(s, w)/s
	} else {
		k = 2 * math.Atan2(s, w) / s
	}
	return mgl64.Vec3{x * k, y * k, z * k}
}

// AxisAngleToQuat is the inverse of QuatToAxisAngle.
func AxisAngleToQuat(r mgl64.Vec3) mgl64.Quat {
	angle := r.Len()
	if angle < 1e-12 {
		return mgl64.Quat{W: 1, V: r.Mul(0.5)}.Normalize()
	}
	s, c := math.Sincos(angle / 2)
	return mgl64.Quat{W: c, V: r.Mul(s / angle)}
}
