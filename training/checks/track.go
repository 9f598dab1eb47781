package checks

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// ErrMotion is wrapped when a motion cannot be checked: no frames, no
// frame rate, or a skeleton without the joints the rules read.
var ErrMotion = errors.New("checks: motion")

// The joints the rules read, by SOMA77 name.
const (
	jHips = iota
	jChest
	jHead
	jLShoulder
	jRShoulder
	jLHand
	jRHand
	jLHip
	jRHip
	jLHeel
	jLToe
	jRHeel
	jRToe
	numJoints
)

var jointNames = [numJoints]string{
	jHips: "Hips", jChest: "Chest", jHead: "Head",
	jLShoulder: "LeftArm", jRShoulder: "RightArm", jLHand: "LeftHand", jRHand: "RightHand",
	jLHip: "LeftLeg", jRHip: "RightLeg",
	jLHeel: "LeftFoot", jLToe: "LeftToeBase", jRHeel: "RightFoot", jRToe: "RightToeBase",
}

// track is what the rules measure, computed once per motion: the joints'
// positions with heights above the floor, the body's facing, the feet's
// lift, and the skeleton's standing hip height.
type track struct {
	n   int
	fps float64
	// pos[j][t]: joint j at frame t, world x and z, y above the floor.
	pos [numJoints][]mgl64.Vec3
	// facing[t]: the horizontal unit vector the body faces (from the hip
	// and shoulder lines); heading[t] its angle about +Y, unwrapped.
	facing  []mgl64.Vec3
	heading []float64
	// lift[f][t]: how far foot f (0 left, 1 right) is off the floor: the
	// lower of its heel's and toe's height over their rest-pose height,
	// less the foot's own floor (see measureFeet).
	lift [2][]float64
	// fall[t]: the hips' vertical acceleration (m/s², second difference
	// over ±span frames); air[t]: the body is in flight.
	fall []float64
	air  []bool
	// stand is the skeleton's hip height above the floor at rest; leg and
	// arm its hip-to-ankle and shoulder-to-wrist lengths.
	// head is the head's height above the floor at rest.
	stand, leg, arm, head float64
}

// newTrack measures m. The floor is the motion's own foot floor
// (motion.FootFloor, as motion.Ground uses): heights are above where its
// feet stand, wherever the clip was placed.
func newTrack(m *motion.Motion) (*track, error) {
	if m == nil || m.Skel == nil || m.Frames() == 0 || !(m.FPS > 0) {
		return nil, fmt.Errorf("%w: no frames, skeleton or frame rate", ErrMotion)
	}
	var idx [numJoints]int
	for j, name := range jointNames {
		i, ok := m.Skel.Index(name)
		if !ok {
			return nil, fmt.Errorf("%w: no joint %q", ErrMotion, name)
		}
		idx[j] = i
	}
	footFloor, ok1 := motion.FootFloor(m)
	restFoot, ok2 := motion.RestFootHeight(m.Skel)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%w: no feet", ErrMotion)
	}
	ground := footFloor - restFoot
	tr := &track{n: m.Frames(), fps: m.FPS}
	world, J := m.WorldPositions(), m.Skel.Len()
	for j := range tr.pos {
		tr.pos[j] = make([]mgl64.Vec3, tr.n)
		for t := range tr.n {
			p := world[t*J+idx[j]]
			tr.pos[j][t] = mgl64.Vec3{p[0], p[1] - ground, p[2]}
		}
	}
	rest, _ := m.Skel.RestWorld()
	tr.stand = rest[idx[jHips]][1] - restFoot
	tr.head = rest[idx[jHead]][1] - restFoot
	tr.leg = rest[idx[jLHip]].Sub(rest[idx[jLHeel]]).Len()
	tr.arm = rest[idx[jLShoulder]].Sub(rest[idx[jLHand]]).Len()
	tr.measureFeet(rest[idx[jLHeel]][1]-restFoot, rest[idx[jLToe]][1]-restFoot)
	tr.measureFacing()
	tr.measureFlight()
	return tr, nil
}

// FootFloorPercentile: each foot's floor is this percentile of its own
// lift over the clip. Retargeted feet do not stand at the rest pose's
// heel and toe heights (CMU takes stand 2 to 7 cm above them, one foot
// higher than the other), so a foot is measured from where it stands.
const FootFloorPercentile = 5

func (tr *track) measureFeet(heel, toe float64) {
	feet := [2][2]int{{jLHeel, jLToe}, {jRHeel, jRToe}}
	for f, js := range feet {
		lift := make([]float64, tr.n)
		for t := range tr.n {
			lift[t] = min(tr.pos[js[0]][t][1]-heel, tr.pos[js[1]][t][1]-toe)
		}
		floor := percentile(lift, FootFloorPercentile)
		for t := range lift {
			lift[t] -= floor
		}
		tr.lift[f] = lift
	}
}

func percentile(x []float64, p int) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

// Flight: both feet off the ground while the hips fall at FreeFall or
// faster. A foot is off the ground when it is more than Clear above its
// floor, or more than AirLift above it and moving at Swing or faster (a
// foot that bears weight does not move; a retargeted stance foot can
// hover a few centimetres above its floor for a whole walk). The feet
// alone mislead, and so do the hips, which drop at 5 m/s² now and then in
// a brisk walk; both together only in a flight (CMU runs: hips at −8 to
// −13 m/s², feet 9-13 cm up and moving at 2-8 m/s at mid-flight).
const (
	AirLift  = 0.05 // metres
	Clear    = 0.15 // metres
	Swing    = 1.0  // m/s
	FreeFall = -5.0 // m/s², half of gravity
)

func (tr *track) footOff(f, t int) bool {
	l := tr.lift[f][t]
	toe := [2]int{jLToe, jRToe}[f]
	return l > Clear || l > AirLift && tr.vel(toe, t, 0, tr.n).Len() >= Swing
}

func (tr *track) measureFlight() {
	k := tr.accSpan()
	tr.fall, tr.air = make([]float64, tr.n), make([]bool, tr.n)
	for t := k; t+k < tr.n; t++ {
		h := func(u int) float64 { return tr.pos[jHips][u][1] }
		tr.fall[t] = (h(t+k) - 2*h(t) + h(t-k)) * tr.fps * tr.fps / float64(k*k)
		tr.air[t] = tr.fall[t] <= FreeFall && tr.footOff(0, t) && tr.footOff(1, t)
	}
}

// measureFacing: forward is the left-to-right axis of the hips and the
// shoulders together, turned a quarter about +Y (left is +X when facing
// +Z). A frame without a horizontal axis keeps the previous facing.
func (tr *track) measureFacing() {
	tr.facing, tr.heading = make([]mgl64.Vec3, tr.n), make([]float64, tr.n)
	prev := mgl64.Vec3{0, 0, 1}
	for t := range tr.n {
		a := tr.pos[jLHip][t].Sub(tr.pos[jRHip][t]).Add(tr.pos[jLShoulder][t].Sub(tr.pos[jRShoulder][t]))
		f := mgl64.Vec3{-a[2], 0, a[0]}
		if l := f.Len(); l > 1e-6 {
			prev = f.Mul(1 / l)
		}
		tr.facing[t] = prev
		h := math.Atan2(prev[0], prev[2])
		if t > 0 {
			h = tr.heading[t-1] + wrap(h-tr.heading[t-1])
		}
		tr.heading[t] = h
	}
}

// wrap maps an angle to (−π, π].
func wrap(a float64) float64 {
	a = math.Mod(a+math.Pi, 2*math.Pi)
	if a <= 0 {
		a += 2 * math.Pi
	}
	return a - math.Pi
}

// span is half the frames a velocity is taken over: ±0.04 s, at least one
// frame (±1 at 24-30 fps, ±2 at 60), so speeds mean about the same at any
// rate; a wider span would halve a punch's or a throw's peak.
func (tr *track) span() int { return max(1, int(math.Round(0.04*tr.fps))) }

// accSpan is the same for the hips' acceleration: ±0.05 s (±2 frames at
// 30 fps), so a frame's jitter does not read as a fall.
func (tr *track) accSpan() int { return max(1, int(math.Round(0.05*tr.fps))) }

// vel is joint j's velocity at frame t (m/s), a central difference over
// ±span frames clipped to [a, b).
func (tr *track) vel(j, t, a, b int) mgl64.Vec3 {
	k := tr.span()
	lo, hi := max(a, t-k), min(b-1, t+k)
	if hi <= lo {
		return mgl64.Vec3{}
	}
	return tr.pos[j][hi].Sub(tr.pos[j][lo]).Mul(tr.fps / float64(hi-lo))
}

// relVel is joint j's velocity relative to joint ref.
func (tr *track) relVel(j, ref, t, a, b int) mgl64.Vec3 {
	return tr.vel(j, t, a, b).Sub(tr.vel(ref, t, a, b))
}

// seconds is the length of frames [a, b) from first to last.
func (tr *track) seconds(a, b int) float64 { return float64(max(b-a-1, 0)) / tr.fps }

// frames is how many frames d seconds are, at least one.
func (tr *track) frames(d float64) int { return max(1, int(math.Round(d*tr.fps))) }

func horiz(v mgl64.Vec3) mgl64.Vec3 { return mgl64.Vec3{v[0], 0, v[2]} }
