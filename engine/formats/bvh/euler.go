package bvh

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"
)

// quatToEuler is motion.QuatToEuler (same formulas, same branch at gimbal
// lock; TestQuatToEulerMatchesMotion holds them together) without its
// normalise → 4×4 → 3×3 detour: the writer converts every joint of every
// frame, and that detour was half of its time.
func quatToEuler(q mgl64.Quat, i, j, k int) mgl64.Vec3 {
	w, x, y, z := q.W, q.V[0], q.V[1], q.V[2]
	s := 2 / (w*w + x*x + y*y + z*z)
	xx, yy, zz := s*x*x, s*y*y, s*z*z
	xy, xz, yz := s*x*y, s*x*z, s*y*z
	wx, wy, wz := s*w*x, s*w*y, s*w*z
	m := [3][3]float64{ // m[row][col]
		{1 - yy - zz, xy - wz, xz + wy},
		{xy + wz, 1 - xx - zz, yz - wx},
		{xz - wy, yz + wx, 1 - xx - yy},
	}
	sign := 1.0
	if (j-i+3)%3 != 1 {
		sign = -1
	}
	var out mgl64.Vec3
	sb := max(-1, min(1, sign*m[i][k]))
	out[j] = math.Asin(sb)
	if math.Abs(sb) < 1-1e-9 {
		out[i] = math.Atan2(-sign*m[j][k], m[k][k])
		out[k] = math.Atan2(-sign*m[i][j], m[i][i])
	} else {
		out[i] = math.Atan2(sign*m[k][j], m[j][j])
		out[k] = 0
	}
	return out
}
