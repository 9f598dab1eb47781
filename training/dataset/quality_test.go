package dataset

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// Real takes, loaded as the builder loads them: every clip stands on the
// floor afterwards (its foot floor at the rest pose's foot height, and
// grounding again moves nothing), whether the conversion had sunk it
// (135_09: 11 cm under, 07_12 iClone) or not (02_01, 16_11); the two
// broken cgspeed captures are told apart from hard real motion (runs,
// jumps) by their root's jolt.
func TestGroundAndJoltOnRealTakes(t *testing.T) {
	dir, rows := mocapRows(t)
	for _, tc := range []struct {
		file   string
		broken bool
	}{
		{"aclstm_cgspeed_daz_dance/martial_08.bvh", false}, // 135_09 lunge punch, subject sunk
		{"przestr_cgspeed_daz/02_01.bvh", false},           // walk
		{"cmu_hahne/16_11.bvh", false},                     // walk, another rig
		{"dragonforged_iclone/007_12.bvh", false},          // brisk walk: the good conversion
		{"przestr_cgspeed_daz/09_02.bvh", false},           // run
		{"przestr_cgspeed_daz/13_40.bvh", false},           // jump
		{"przestr_cgspeed_daz/07_12.bvh", true},            // brisk walk: root height jumps ±15 cm a frame
		{"przestr_cgspeed_daz/09_10.bvh", true},            // run: root height jumps half a metre
	} {
		t.Run(tc.file, func(t *testing.T) {
			m, _, err := LoadClip(dir, rowOf(t, rows, tc.file), 30)
			if err != nil {
				t.Fatal(err)
			}
			jolt := RootJolt(m)
			if (jolt > MaxRootJolt) != tc.broken {
				t.Errorf("root jolt %.1f m/s² (limit %d), want broken = %v", jolt, MaxRootJolt, tc.broken)
			}
			if tc.broken {
				return
			}
			floor, _ := motion.FootFloor(m)
			rest, _ := motion.RestFootHeight(m.Skel)
			if math.Abs(floor-rest) > 1e-9 {
				t.Errorf("foot floor %.4f m, rest foot height %.4f m", floor, rest)
			}
			if _, dy := motion.Ground(m); math.Abs(dy) > 1e-9 {
				t.Errorf("grounding a grounded clip moves it by %g m", dy)
			}
			t.Logf("jolt %.1f m/s², hips mean height %.3f m", jolt, meanHeight(m.Root))
		})
	}
}

func meanHeight(r []mgl64.Vec3) float64 {
	s := 0.0
	for _, p := range r {
		s += p[1]
	}
	return s / float64(len(r))
}

// Grounding is a vertical shift of the root only: a clip lifted by 30 cm
// comes back to where it was, frame for frame.
func TestGroundIsAShift(t *testing.T) {
	dir, rows := mocapRows(t)
	m, _, err := LoadClip(dir, rowOf(t, rows, "przestr_cgspeed_daz/02_01.bvh"), 30)
	if err != nil {
		t.Fatal(err)
	}
	lifted := *m
	lifted.Root = make([]mgl64.Vec3, len(m.Root))
	for i, p := range m.Root {
		lifted.Root[i] = p.Add(mgl64.Vec3{0, 0.3, 0})
	}
	g, dy := motion.Ground(&lifted)
	if math.Abs(dy+0.3) > 1e-9 {
		t.Fatalf("shift %g, want -0.3", dy)
	}
	for i := range m.Root {
		if d := g.Root[i].Sub(m.Root[i]).Len(); d > 1e-9 {
			t.Fatalf("frame %d: root %v, want %v", i, g.Root[i], m.Root[i])
		}
	}
	if &g.Root[0] == &lifted.Root[0] {
		t.Fatal("Ground changed its input's root slice")
	}
	if lifted.Root[0][1]-m.Root[0][1] < 0.29 {
		t.Fatal("Ground moved its input")
	}
}

// A take whose kept conversion is a broken capture is built from its next
// conversion instead: here the DAZ 02_01 with its root height thrown ±15 cm
// from one 30 fps frame to the next (what the cgspeed 07_12 does) gives way to the iClone
// file of the same take.
func TestBrokenCaptureFallsBackOnAnotherConversion(t *testing.T) {
	mocap := testMocap(t)
	daz := filepath.Join(mocap, "przestr_cgspeed_daz/02_01.bvh")
	b, err := os.ReadFile(daz)
	if err != nil {
		t.Fatal(err)
	}
	head, motionPart, ok := strings.Cut(string(b), "MOTION\n")
	if !ok {
		t.Fatal("no MOTION section")
	}
	lines := strings.Split(motionPart, "\n")
	frame := 0
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) < 6 || strings.HasPrefix(l, "Frame") {
			continue
		}
		y, err := strconv.ParseFloat(f[1], 64) // Xposition Yposition Zposition …, in the file's units (cm)
		if err != nil {
			t.Fatal(err)
		}
		f[1] = strconv.FormatFloat(y+15*float64(1-2*(frame/4%2)), 'f', 4, 64) // flips every 4 frames: every frame at 30 fps
		lines[i] = strings.Join(f, " ")
		frame++
	}
	if err := os.WriteFile(daz, []byte(head+"MOTION\n"+strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	sum, err := Build(Config{MocapDir: mocap, OutDir: out, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, s := range sum.Skipped {
		reasons[s.File] = s.Reason
	}
	if r := reasons["przestr_cgspeed_daz/02_01.bvh"]; !strings.HasPrefix(r, "broken capture") {
		t.Errorf("the corrupted DAZ file: skipped %q", r)
	}
	if r, ok := reasons["dragonforged_iclone/002_01.bvh"]; ok {
		t.Errorf("the iClone conversion is still skipped: %q", r)
	}
	idx, err := os.ReadFile(filepath.Join(out, "clips.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index Index
	if err := json.Unmarshal(idx, &index); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range index.Clips {
		if c.ID == "02_01" {
			n++
			if c.Source != "dragonforged_iclone/002_01.bvh" {
				t.Errorf("02_01 from %s", c.Source)
			}
		}
	}
	if n != 2 { // the clip and its mirror
		t.Errorf("%d clips of 02_01, want 2", n)
	}
}
