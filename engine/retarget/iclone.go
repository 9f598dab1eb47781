package retarget

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// icloneTPoseZYX is the T-pose that the dragonforged iClone files 007_03 to
// 007_12 carry as frame 0 (the other iClone files start mid-motion, and the
// rig's zero pose is not a T-pose: its bones' local axes are turned, the
// calf OFFSET points along +Y). Values are the file's rotation channels in
// degrees, in CHANNELS order Z, Y, X. CC_Base_Hip's entry is its world
// rotation (it is the root of the 100-joint files; under the 101-joint
// files' RL_BoneRoot, whose reference rotation is identity, it is the same).
var icloneTPoseZYX = map[string][3]float64{
	"CC_Base_Hip":         {-0.192953, 0.000437, -0.000165},
	"CC_Base_Pelvis":      {7.7e-05, -1.6e-05, 11.7704},
	"CC_Base_Waist":       {0.19304, -6.5e-05, 16.2351},
	"CC_Base_Spine01":     {-7.5e-05, 0.000104, -21.2498},
	"CC_Base_Spine02":     {0.001394, -0.001918, -5.31168},
	"CC_Base_NeckTwist01": {-0.001607, -0.002627, 21.5562},
	"CC_Base_NeckTwist02": {-0.00072, -0.001007, -1.59251},
	"CC_Base_Head":        {0.000172, 0.004219, -9.64923},
	"CC_Base_L_Thigh":     {179.921, 0.061388, 16.6023},
	"CC_Base_L_Calf":      {-0.063117, -0.101725, -9.45988},
	"CC_Base_L_Foot":      {-0.644069, -6.13037, 81.7729},
	"CC_Base_L_ToeBase":   {-1.79545, 3.16825, 18.5655},
	"CC_Base_L_Clavicle":  {-88.4186, 10.8651, -14.6794},
	"CC_Base_L_Upperarm":  {-4.02453, 0.55672, 15.4758},
	"CC_Base_L_Forearm":   {1.25442, 0.007291, 0.154937},
	"CC_Base_L_Hand":      {-4.49146, -0.281028, -3.0461},
	"CC_Base_L_Thumb1":    {-5.96619, -11.3465, 48.0035},
	"CC_Base_L_Thumb2":    {4.93399, 1.33279, -19.4464},
	"CC_Base_L_Thumb3":    {-1.24066, 0.085655, 4.83641},
	"CC_Base_L_Index1":    {1.10095, -0.182342, 2.96275},
	"CC_Base_L_Index2":    {-0.170188, 0.64116, 0.563648},
	"CC_Base_L_Index3":    {-1.42251, -0.01673, -0.396565},
	"CC_Base_L_Mid1":      {1.57616, -0.140528, 3.48195},
	"CC_Base_L_Mid2":      {-0.194869, 0.394054, -0.715052},
	"CC_Base_L_Mid3":      {-0.610418, 0.022755, 0.517175},
	"CC_Base_L_Ring1":     {2.0392, 0.187845, 2.70139},
	"CC_Base_L_Ring2":     {0.110819, -0.037478, -1.0843},
	"CC_Base_L_Ring3":     {-1.35984, -0.021702, 0.232733},
	"CC_Base_L_Pinky1":    {3.83962, 0.089925, 3.3853},
	"CC_Base_L_Pinky2":    {0.056505, -0.15418, -2.00691},
	"CC_Base_L_Pinky3":    {-6.28396, 0.080244, 1.45338},
	"CC_Base_R_Thigh":     {-179.474, 0.024892, 16.0456},
	"CC_Base_R_Calf":      {0.028011, 0.082734, -8.37284},
	"CC_Base_R_Foot":      {0.605164, 6.14482, 81.2543},
	"CC_Base_R_ToeBase":   {1.78413, -3.16634, 18.5701},
	"CC_Base_R_Clavicle":  {88.4187, -10.8659, -14.6723},
	"CC_Base_R_Upperarm":  {3.96285, -0.7816, 15.6115},
	"CC_Base_R_Forearm":   {-1.25791, -0.006516, 0.139116},
	"CC_Base_R_Hand":      {4.50782, 0.289402, -3.20543},
	"CC_Base_R_Thumb1":    {5.80101, 11.4136, 48.0544},
	"CC_Base_R_Thumb2":    {-4.10855, -1.04246, -16.5958},
	"CC_Base_R_Thumb3":    {0.49083, -0.083617, 2.21634},
	"CC_Base_R_Index1":    {-1.11378, 0.176105, 3.13587},
	"CC_Base_R_Index2":    {0.160537, -0.640715, 0.564293},
	"CC_Base_R_Index3":    {1.42332, 0.016812, -0.396886},
	"CC_Base_R_Mid1":      {-1.60545, 0.136879, 3.64348},
	"CC_Base_R_Mid2":      {0.18726, -0.393522, -0.703415},
	"CC_Base_R_Mid3":      {0.606043, -0.023361, 0.516032},
	"CC_Base_R_Ring1":     {-2.04512, -0.191766, 2.87686},
	"CC_Base_R_Ring2":     {-0.13687, 0.037625, -1.08737},
	"CC_Base_R_Ring3":     {1.3726, 0.021166, 0.232547},
	"CC_Base_R_Pinky1":    {-3.85679, -0.087471, 3.5579},
	"CC_Base_R_Pinky2":    {-0.048115, 0.153446, -2.00699},
	"CC_Base_R_Pinky3":    {6.28069, -0.07953, 1.45357},
}

// icloneTPose returns the T-pose as local rotations of s: the table's
// entries, identity elsewhere (joints off the mapped chains do not matter).
func icloneTPose(s *motion.Skeleton) []mgl64.Quat {
	out := make([]mgl64.Quat, s.Len())
	for i, j := range s.Joints {
		out[i] = mgl64.QuatIdent()
		if zyx, ok := icloneTPoseZYX[j.Name]; ok {
			const deg = math.Pi / 180
			out[i] = motion.EulerToQuat(mgl64.Vec3{zyx[2] * deg, zyx[1] * deg, zyx[0] * deg}, motion.ZYX)
		}
	}
	return out
}
