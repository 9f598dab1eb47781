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

// axes returns the axis indices (0=X, 1=Y, 2=Z) in order.
func (o EulerOrder) axes() (int, int, int) {
	return int(o[0] - 'X'), int(o[1] - 'X'), int(o[2] - 'X')
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
	a, b, c := o.axes()
	return axisQuat(a, angles[a]).Mul(axisQuat(b, angles[b])).Mul(axisQuat(c, angles[c]))
}

func axisQuat(axis int, angle float64) mgl64.Quat {
	s, c := math.Sincos(angle / 2)
	q := mgl64.Quat{W: c}
	q.V[axis] = s
	return q
}

// QuatToEuler returns per-axis angles in radians (X, Y, Z) that compose in
// order o to q. The middle angle is in [-π/2, π/2]; at gimbal lock (middle
// angle ±π/2) the third angle is set to zero and the first carries the rest.
func QuatToEuler(q mgl64.Quat, o EulerOrder) mgl64.Vec3 {
	m := QuatToMat3(q)
	at := func(r, c int) float64 { return m.At(r, c) }
	i, j, k := o.axes()
	// sign is +1 for the cyclic orders XYZ, YZX, ZXY and -1 for the others.
	sign := 1.0
	if (j-i+3)%3 != 1 {
		sign = -1
	}
	var out mgl64.Vec3
	sb := mgl64.Clamp(sign*at(i, k), -1, 1)
	out[j] = math.Asin(sb)
	if math.Abs(sb) < 1-1e-9 {
		out[i] = math.Atan2(-sign*at(j, k), at(k, k))
		out[k] = math.Atan2(-sign*at(i, j), at(i, i))
	} else {
		out[i] = math.Atan2(sign*at(k, j), at(j, j))
		out[k] = 0
	}
	return out
}

// QuatToMat3 returns the rotation matrix of a unit quaternion.
func QuatToMat3(q mgl64.Quat) mgl64.Mat3 {
	return q.Normalize().Mat4().Mat3()
}

// Mat3ToQuat returns the unit quaternion of a rotation matrix, with W ≥ 0.
func Mat3ToQuat(m mgl64.Mat3) mgl64.Quat {
	return Canonical(mgl64.Mat4ToQuat(m.Mat4()).Normalize())
}

// Canonical returns q or -q, whichever has W ≥ 0 (the same rotation).
func Canonical(q mgl64.Quat) mgl64.Quat {
	if q.W < 0 {
		return mgl64.Quat{W: -q.W, V: q.V.Mul(-1)}
	}
	return q
}

// QuatToAxisAngle returns the rotation vector (unit axis × angle in radians,
// angle in [0, π]) of a quaternion.
func QuatToAxisAngle(q mgl64.Quat) mgl64.Vec3 {
	q = Canonical(q.Normalize())
	s := q.V.Len()
	if s < 1e-12 {
		return q.V.Mul(2) // small-angle limit of axis·2·asin(s)
	}
	angle := 2 * math.Atan2(s, q.W)
	return q.V.Mul(angle / s)
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
