package retarget

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"
)

// swing returns the shortest rotation taking direction a onto direction b
// (neither needs to be unit length; both must be non-zero).
func swing(a, b mgl64.Vec3) mgl64.Quat {
	a, b = a.Normalize(), b.Normalize()
	d := a.Dot(b)
	if d < -1+1e-12 { // opposite: half a turn about any axis perpendicular to a
		axis := a.Cross(mgl64.Vec3{1, 0, 0})
		if axis.Len() < 1e-6 {
			axis = a.Cross(mgl64.Vec3{0, 1, 0})
		}
		return mgl64.Quat{V: axis.Normalize()}
	}
	// q = (1 + a·b, a×b) normalised is the half-angle rotation from a to b.
	return mgl64.Quat{W: 1 + d, V: a.Cross(b)}.Normalize()
}

// fitRotation returns the rotation R that best takes each direction a[i]
// onto b[i] in the least-squares sense (Horn's quaternion method on unit
// vectors). When the a[i] (or the b[i]) are all parallel the twist about
// them is undetermined, and the result is the swing between their sums.
func fitRotation(a, b []mgl64.Vec3) mgl64.Quat {
	if len(a) == 0 {
		return mgl64.QuatIdent()
	}
	var sa, sb mgl64.Vec3
	ua := make([]mgl64.Vec3, len(a))
	ub := make([]mgl64.Vec3, len(b))
	for i := range a {
		ua[i], ub[i] = a[i].Normalize(), b[i].Normalize()
		sa, sb = sa.Add(ua[i]), sb.Add(ub[i])
	}
	if parallel(ua) || parallel(ub) {
		if sa.Len() < 1e-9 || sb.Len() < 1e-9 {
			return mgl64.QuatIdent()
		}
		return swing(sa, sb)
	}
	var s [3][3]float64 // s[p][q] = Σ a_p b_q
	for i := range ua {
		for p := 0; p < 3; p++ {
			for q := 0; q < 3; q++ {
				s[p][q] += ua[i][p] * ub[i][q]
			}
		}
	}
	const x, y, z = 0, 1, 2
	n := [4][4]float64{
		{s[x][x] + s[y][y] + s[z][z], s[y][z] - s[z][y], s[z][x] - s[x][z], s[x][y] - s[y][x]},
		{s[y][z] - s[z][y], s[x][x] - s[y][y] - s[z][z], s[x][y] + s[y][x], s[z][x] + s[x][z]},
		{s[z][x] - s[x][z], s[x][y] + s[y][x], -s[x][x] + s[y][y] - s[z][z], s[y][z] + s[z][y]},
		{s[x][y] - s[y][x], s[z][x] + s[x][z], s[y][z] + s[z][y], -s[x][x] - s[y][y] + s[z][z]},
	}
	v := topEigenvector(n)
	return mgl64.Quat{W: v[0], V: mgl64.Vec3{v[1], v[2], v[3]}}.Normalize()
}

// parallel reports whether unit vectors all lie within about 3° of one line.
func parallel(u []mgl64.Vec3) bool {
	for i := range u {
		for j := i + 1; j < len(u); j++ {
			if u[i].Cross(u[j]).Len() > 0.05 {
				return false
			}
		}
	}
	return true
}

// topEigenvector returns the unit eigenvector of the largest eigenvalue of
// a symmetric 4×4 matrix, by cyclic Jacobi rotations.
func topEigenvector(a [4][4]float64) [4]float64 {
	var v [4][4]float64
	for i := range v {
		v[i][i] = 1
	}
	for sweep := 0; sweep < 64; sweep++ {
		off := 0.0
		for p := 0; p < 4; p++ {
			for q := p + 1; q < 4; q++ {
				off += a[p][q] * a[p][q]
			}
		}
		if off < 1e-30 {
			break
		}
		for p := 0; p < 4; p++ {
			for q := p + 1; q < 4; q++ {
				if math.Abs(a[p][q]) < 1e-300 {
					continue
				}
				theta := (a[q][q] - a[p][p]) / (2 * a[p][q])
				t := math.Copysign(1, theta) / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := 0; k < 4; k++ { // columns p, q of A·J
					akp, akq := a[k][p], a[k][q]
					a[k][p], a[k][q] = c*akp-s*akq, s*akp+c*akq
				}
				for k := 0; k < 4; k++ { // rows p, q of Jᵀ·A
					apk, aqk := a[p][k], a[q][k]
					a[p][k], a[q][k] = c*apk-s*aqk, s*apk+c*aqk
				}
				for k := 0; k < 4; k++ {
					vkp, vkq := v[k][p], v[k][q]
					v[k][p], v[k][q] = c*vkp-s*vkq, s*vkp+c*vkq
				}
			}
		}
	}
	best := 0
	for i := 1; i < 4; i++ {
		if a[i][i] > a[best][best] {
			best = i
		}
	}
	return [4]float64{v[0][best], v[1][best], v[2][best], v[3][best]}
}

// yawBetween returns the rotation about +Y taking the horizontal part of
// direction a onto that of b.
func yawBetween(a, b mgl64.Vec3) mgl64.Quat {
	ang := math.Atan2(b[0], b[2]) - math.Atan2(a[0], a[2])
	return mgl64.QuatRotate(ang, mgl64.Vec3{0, 1, 0})
}
