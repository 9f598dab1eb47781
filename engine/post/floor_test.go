package post

import (
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

func TestFloorHeight(t *testing.T) {
	var grid [][3]float64 // the plane h = 0.1 + 0.2x − 0.15z on a 1 m grid
	for x := -3.0; x <= 3; x++ {
		for z := -3.0; z <= 8; z++ {
			grid = append(grid, [3]float64{x, z, 0.1 + 0.2*x - 0.15*z})
		}
	}
	cases := []struct {
		name   string
		points [][3]float64
		x, z   float64
		want   float64
	}{
		{"one point is a flat floor", [][3]float64{{5, 5, 0.3}}, -40, 12, 0.3},
		{"on a point", [][3]float64{{0, 0, 0}, {0, 3, 0}, {0, 4.5, -0.6}}, 0, 4.5, -0.6},
		{"plane between points", grid, 0.37, 2.71, 0.1 + 0.2*0.37 - 0.15*2.71},
		{"plane off the grid lines", grid, -1.5, 6.5, 0.1 - 0.3 - 0.15*6.5},
		{"line: linear between", [][3]float64{{0, 0, 0}, {0, 1, 0.1}, {0, 2, 0.2}, {0, 3, 0.3}}, 0, 1.5, 0.15},
		{"line: same across it", [][3]float64{{0, 0, 0}, {0, 1, 0.1}, {0, 2, 0.2}, {0, 3, 0.3}}, 4, 1.5, 0.15},
		{"clamped beyond the last point", [][3]float64{{0, 0, 0}, {0, 1, 0.1}, {0, 2, 0.2}}, 0, 30, 0.2},
		{"far away: the nearest", [][3]float64{{0, 0, 0}, {1e5, 0, 1}}, 2e5, 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := NewFloor(c.points)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Height(c.x, c.z); math.Abs(got-c.want) > 1e-3 {
				t.Errorf("Height(%g, %g) = %.5f, want %.5f", c.x, c.z, got, c.want)
			}
		})
	}
}

func TestNewFloorBadInput(t *testing.T) {
	cases := []struct {
		name   string
		points [][3]float64
	}{
		{"none", nil},
		{"NaN", [][3]float64{{0, 0, 0}, {math.NaN(), 0, 0}}},
		{"infinite height", [][3]float64{{0, 0, math.Inf(1)}}},
		{"beyond 1e6 m", [][3]float64{{0, 2e6, 0}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := NewFloor(c.points); !isErr(err, ErrBadValue) {
				t.Fatalf("err = %v, want ErrBadValue", err)
			}
		})
	}
}

// TestStandOn walks the cleaned, grounded gait over floors: at every
// contact frame the foot (mid heel–toe) is lifted by the floor under it,
// within 1 cm.
func TestStandOn(t *testing.T) {
	raw, contacts := gait(150, 30)
	cleaned, _, err := Apply(raw, Input{Contacts: contacts})
	if err != nil {
		t.Fatal(err)
	}
	flat, _ := motion.Ground(cleaned)
	var slope [][3]float64 // rises 12 cm per metre along +Z (the walk's way)
	for x := -2.0; x <= 2; x++ {
		for z := -2.0; z <= 8; z++ {
			slope = append(slope, [3]float64{x, z, 0.12 * z})
		}
	}
	cases := []struct {
		name   string
		points [][3]float64
	}{
		{"raised flat floor", [][3]float64{{0, 0, 0.35}}},
		{"lowered flat floor", [][3]float64{{3, -2, -0.2}}},
		{"slope", slope},
		{"step up", [][3]float64{{0, 0, 0}, {0, 2, 0}, {0, 2.3, 0.15}, {0, 8, 0.15}}},
	}
	cj := motion.DefaultContactJoints(flat.Skel)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			floor, err := NewFloor(c.points)
			if err != nil {
				t.Fatal(err)
			}
			got, err := StandOn(flat, contacts, floor)
			if err != nil {
				t.Fatal(err)
			}
			noNaN(t, got)
			worst, lifted := 0.0, 0.0
			for tt := range contacts {
				for foot := range 2 {
					if !contacts[tt][2*foot] {
						continue
					}
					before := footMid(flat, tt, cj[2*foot], cj[2*foot+1])
					after := footMid(got, tt, cj[2*foot], cj[2*foot+1])
					want := floor.Height(before[0], before[2])
					worst = max(worst, math.Abs(after[1]-before[1]-want))
					lifted = max(lifted, math.Abs(want))
					if d := math.Hypot(after[0]-before[0], after[2]-before[2]); d > 0.01 {
						t.Fatalf("frame %d foot %d moved %.3f m across the floor", tt, foot, d)
					}
				}
			}
			t.Logf("worst contact miss %.4f m (floor up to %.2f m)", worst, lifted)
			if worst > 0.01 {
				t.Errorf("a planted foot misses its floor by %.4f m (> 1 cm)", worst)
			}
		})
	}
}

func footMid(m *motion.Motion, t, heel, toe int) mgl64.Vec3 {
	return worldPos(m, t, heel).Add(worldPos(m, t, toe)).Mul(0.5)
}

func TestStandOnBadInput(t *testing.T) {
	m, contacts := gait(20, 30)
	floor, _ := NewFloor([][3]float64{{0, 0, 0.1}})
	if _, err := StandOn(m, contacts, nil); !isErr(err, ErrBadValue) {
		t.Errorf("no floor: err = %v", err)
	}
	if _, err := StandOn(m, contacts[:5], floor); !isErr(err, ErrContacts) {
		t.Errorf("short contacts: err = %v", err)
	}
	if _, err := StandOn(nil, contacts, floor); !isErr(err, ErrMotion) {
		t.Errorf("no motion: err = %v", err)
	}
}
