package blendercheck

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
)

// A two-bone chain whose positions are known by hand: the root moves along
// +X (1 cm per frame) and the child, 10 cm above it, swings 90° about Z at
// frame 2, which puts the grandchild at -X of the child.
const chain = `HIERARCHY
ROOT Root
{
	OFFSET 0 0 0
	CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation
	JOINT Mid
	{
		OFFSET 0 10 0
		CHANNELS 3 Zrotation Yrotation Xrotation
		JOINT Tip
		{
			OFFSET 0 10 0
			CHANNELS 3 Zrotation Yrotation Xrotation
			End Site
			{
				OFFSET 0 5 0
			}
		}
	}
}
MOTION
Frames: 3
Frame Time: 0.04
0 100 0 0 0 0 0 0 0 0 0 0
1 100 0 0 0 0 0 0 0 0 0 0
2 100 0 0 0 0 90 0 0 0 0 0
`

func TestBVHChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chain.bvh")
	if err := os.WriteFile(path, []byte(chain), 0o644); err != nil {
		t.Fatal(err)
	}
	res := Run(t, Query{File: path, Format: "bvh", Scale: 0.01, Joints: []string{"Root", "Mid", "Tip"}, Frames: []int{0, 1, 2}})
	if res.Frames != 3 || res.FPS != 25 {
		t.Fatalf("frames, fps = %d, %g; want 3, 25", res.Frames, res.FPS)
	}
	want := map[string][]mgl64.Vec3{
		"Root": {{0, 1, 0}, {0.01, 1, 0}, {0.02, 1, 0}},
		"Mid":  {{0, 1.1, 0}, {0.01, 1.1, 0}, {0.02, 1.1, 0}},
		"Tip":  {{0, 1.2, 0}, {0.01, 1.2, 0}, {0.02 - 0.1, 1.1, 0}},
	}
	for j, ps := range want {
		for k, p := range ps {
			if got := res.Positions[j][k]; got.Sub(p).Len() > 1e-6 {
				t.Errorf("%s frame %d: blender %v, want %v", j, k, got, p)
			}
		}
	}
}

func TestRunManyReportsEachFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "chain.bvh")
	bad := filepath.Join(dir, "broken.bvh")
	os.WriteFile(good, []byte(chain), 0o644)
	os.WriteFile(bad, []byte("HIERARCHY\nROOT x\n{"), 0o644)
	q := Query{Format: "bvh", Scale: 0.01, Joints: []string{"Tip"}, Frames: []int{2}}
	qs := []Query{q, q, q}
	qs[0].File, qs[1].File, qs[2].File = good, bad, good
	res, errs := RunMany(t, qs)
	if errs[0] != nil || errs[2] != nil || errs[1] == nil {
		t.Fatalf("errors = %v, want only the broken file to fail", errs)
	}
	for _, i := range []int{0, 2} {
		if got := res[i].Positions["Tip"][0]; got.Sub(mgl64.Vec3{-0.08, 1.1, 0}).Len() > 1e-6 {
			t.Errorf("query %d: Tip at %v", i, got)
		}
	}
}
