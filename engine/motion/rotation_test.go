package motion

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
)

// sameRotation compares two quaternions up to sign.
func sameRotation(a, b mgl64.Quat, tol float64) bool {
	return math.Abs(math.Abs(a.Normalize().Dot(b.Normalize()))-1) < tol
}

// elemental builds an order's matrix from mathgl's own elemental rotations,
// an implementation independent of ours.
func elemental(angles mgl64.Vec3, o EulerOrder) mgl64.Mat3 {
	rot := [3]func(float64) mgl64.Mat3{mgl64.Rotate3DX, mgl64.Rotate3DY, mgl64.Rotate3DZ}
	ax := o.Axes()
	i, j, k := ax[0], ax[1], ax[2]
	return rot[i](angles[i]).Mul3(rot[j](angles[j])).Mul3(rot[k](angles[k]))
}

func TestEulerRoundTrip(t *testing.T) {
	d := mgl64.DegToRad
	cases := []struct {
		name   string
		angles func(o EulerOrder) mgl64.Vec3 // per-axis angles for order o
	}{
		{"zero", func(EulerOrder) mgl64.Vec3 { return mgl64.Vec3{} }},
		{"small", func(EulerOrder) mgl64.Vec3 { return mgl64.Vec3{d(1), d(-2), d(3)} }},
		{"large", func(EulerOrder) mgl64.Vec3 { return mgl64.Vec3{d(170), d(-60), d(-135)} }},
		{"gimbal +90", func(o EulerOrder) mgl64.Vec3 {
			var v mgl64.Vec3
			ax := o.Axes()
			i, j, k := ax[0], ax[1], ax[2]
			v[i], v[j], v[k] = d(30), d(90), d(40)
			return v
		}},
		{"gimbal -90", func(o EulerOrder) mgl64.Vec3 {
			var v mgl64.Vec3
			ax := o.Axes()
			i, j, k := ax[0], ax[1], ax[2]
			v[i], v[j], v[k] = d(-75), d(-90), d(20)
			return v
		}},
		{"near gimbal", func(o EulerOrder) mgl64.Vec3 {
			var v mgl64.Vec3
			ax := o.Axes()
			i, j, k := ax[0], ax[1], ax[2]
			v[i], v[j], v[k] = d(10), d(89.9999), d(-50)
			return v
		}},
	}
	for _, o := range EulerOrders {
		for _, tc := range cases {
			t.Run(string(o)+"/"+tc.name, func(t *testing.T) {
				a := tc.angles(o)
				q := EulerToQuat(a, o)
				if want := Mat3ToQuat(elemental(a, o)); !sameRotation(q, want, 1e-12) {
					t.Fatalf("EulerToQuat(%v) = %v, matrix product gives %v", a, q, want)
				}
				back := QuatToEuler(q, o)
				if q2 := EulerToQuat(back, o); !sameRotation(q, q2, 1e-10) {
					t.Fatalf("angles %v → %v → a different rotation", a, back)
				}
				j := o.Axes()[1]
				if math.Abs(back[j]) > math.Pi/2+1e-12 {
					t.Fatalf("middle angle %g outside [-π/2, π/2]", back[j])
				}
			})
		}
	}
}

func TestEulerRandomRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, o := range EulerOrders {
		for n := 0; n < 500; n++ {
			q := randomQuat(rng)
			if q2 := EulerToQuat(QuatToEuler(q, o), o); !sameRotation(q, q2, 1e-10) {
				t.Fatalf("%s: %v does not survive the round trip (got %v)", o, q, q2)
			}
		}
	}
}

func TestParseEulerOrder(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want EulerOrder
		ok   bool
	}{{"ZYX", ZYX, true}, {"xzy", XZY, true}, {"XYX", "", false}, {"", "", false}, {"ZYXW", "", false}} {
		got, err := ParseEulerOrder(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseEulerOrder(%q) = %q, %v", tc.in, got, err)
		}
	}
}

func TestAxisAngleAndMatrix(t *testing.T) {
	cases := []struct {
		name string
		q    mgl64.Quat
	}{
		{"identity", mgl64.QuatIdent()},
		{"tiny", mgl64.QuatRotate(1e-9, mgl64.Vec3{0, 1, 0})},
		{"quarter about X", mgl64.QuatRotate(math.Pi/2, mgl64.Vec3{1, 0, 0})},
		{"half turn", mgl64.QuatRotate(math.Pi, mgl64.Vec3{0, 0, 1})},
		{"negative w", mgl64.Quat{W: -0.5, V: mgl64.Vec3{0.5, 0.5, 0.5}}},
		{"oblique", mgl64.QuatRotate(2.5, mgl64.Vec3{1, -2, 3}.Normalize())},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := QuatToAxisAngle(tc.q)
			if r.Len() > math.Pi+1e-12 {
				t.Fatalf("angle %g > π", r.Len())
			}
			if q := AxisAngleToQuat(r); !sameRotation(q, tc.q, 1e-12) {
				t.Fatalf("axis-angle %v → %v, want %v", r, q, tc.q)
			}
			m := QuatToMat3(tc.q)
			if q := Mat3ToQuat(m); !sameRotation(q, tc.q, 1e-12) || q.W < 0 {
				t.Fatalf("matrix → %v, want %v with w ≥ 0", q, tc.q)
			}
			// The matrix rotates vectors as the quaternion does.
			v := mgl64.Vec3{0.3, -1, 2}
			if a, b := m.Mul3x1(v), tc.q.Rotate(v); !a.ApproxEqualThreshold(b, 1e-12) {
				t.Fatalf("matrix·v = %v, q·v = %v", a, b)
			}
		})
	}
}

func randomQuat(rng *rand.Rand) mgl64.Quat {
	q := mgl64.Quat{W: rng.NormFloat64(), V: mgl64.Vec3{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}}
	return q.Normalize()
}
