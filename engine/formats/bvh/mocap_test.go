package bvh

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/internal/testtools"
)

type clip struct {
	file            string
	joints, frames  int
	headerFrameTime float64
	cmuSourceFPS    float64
}

func readClips(t *testing.T) (string, []clip) {
	t.Helper()
	dir := testtools.MocapDir(t)
	f, err := os.Open(filepath.Join(dir, "clips.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	var out []clip
	for _, r := range rows[1:] {
		c := clip{file: r[col["file"]]}
		c.joints, _ = strconv.Atoi(r[col["joints"]])
		c.frames, _ = strconv.Atoi(r[col["frames"]])
		c.headerFrameTime, _ = strconv.ParseFloat(r[col["header_frame_time"]], 64)
		c.cmuSourceFPS, _ = strconv.ParseFloat(r[col["cmu_source_fps"]], 64)
		out = append(out, c)
	}
	return dir, out
}

// TestMocapFiles parses every BVH listed in clips.csv. clips.csv's `joints`
// counts ROOT and JOINT entries, not End Sites (checked against the files:
// e.g. the 31-joint CMU rig has 31 joints and 7 End Sites), which is exactly
// our Skeleton.Len(). The frame rate is the header's (the salsa files'
// header says 120 fps where the capture was 60: the reader cannot know).
func TestMocapFiles(t *testing.T) {
	dir, clips := readClips(t)
	if len(clips) < 160 {
		t.Fatalf("clips.csv lists %d files", len(clips))
	}
	start := time.Now()
	var bytesRead atomic.Int64
	t.Run("files", func(t *testing.T) {
		for _, c := range clips {
			t.Run(c.file, func(t *testing.T) {
				t.Parallel()
				data, err := os.ReadFile(filepath.Join(dir, c.file))
				if err != nil {
					t.Fatal(err)
				}
				bytesRead.Add(int64(len(data)))
				m, err := Parse(data)
				if err != nil {
					t.Fatal(err)
				}
				if m.Skel.Len() != c.joints || m.Frames() != c.frames {
					t.Fatalf("%d joints × %d frames, clips.csv says %d × %d", m.Skel.Len(), m.Frames(), c.joints, c.frames)
				}
				if want := math.Round(1 / c.headerFrameTime); m.FPS != want {
					t.Errorf("fps %v, want %v from the header's %v", m.FPS, want, c.headerFrameTime)
				}
				if err := m.Validate(); err != nil {
					t.Fatal(err)
				}
				// The last frame's first three values, parsed independently,
				// are the root's position channels.
				body := strings.TrimRight(string(data), "\r\n\t ")
				f := strings.Fields(body[strings.LastIndexByte(body, '\n')+1:])
				var ch mgl64.Vec3
				for k := range ch {
					ch[k], _ = strconv.ParseFloat(f[k], 64)
				}
				if got := m.Root[m.Frames()-1].Sub(m.Skel.Joints[0].Offset); got.Sub(ch).Len() > 1e-9 {
					t.Errorf("last root channels %v, file says %v", got, ch)
				}
			})
		}
	})
	el := time.Since(start)
	t.Logf("parsed %d files, %.0f MB in %v (%.0f MB/s on the test's cores)", len(clips), float64(bytesRead.Load())/1e6, el, float64(bytesRead.Load())/1e6/el.Seconds())
}

// testdataClips are the short excerpts in testdata/bvh (see its README),
// one per rig and a few more that tests read by name; they need no mocap
// download.
var testdataClips = []struct {
	file           string
	joints, frames int
	fps            float64
	root           string
	tpose          bool // frame 0 is a T-pose the source put before the take: frame 1 jumps away from it
}{
	{"cmu_16_11_walk_veer_left.bvh", 31, 240, 120, "Hips", false},
	{"cmu_13_26_direct_traffic.bvh", 31, 120, 120, "Hips", true},
	{"cmu31_16_01_jump.bvh", 31, 90, 30, "hip", false},
	{"daz_02_01_walk.bvh", 43, 120, 120, "hip", false},
	{"daz_60_15_salsa.bvh", 43, 120, 120, "hip", true},
	{"iclone_01_01_jump.bvh", 100, 60, 60, "CC_Base_Hip", false},
	{"iclone_07_03_walk_tpose.bvh", 100, 61, 60, "CC_Base_Hip", true},
	{"iclone101_02_01_walk.bvh", 101, 60, 60, "RL_BoneRoot", false},
}

func testdataPath(t testing.TB, file string) string {
	return testtools.TestdataBVH(t, file)
}

func TestTestdataClips(t *testing.T) {
	for _, c := range testdataClips {
		t.Run(c.file, func(t *testing.T) {
			m, err := ReadFile(testdataPath(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if m.Skel.Len() != c.joints || m.Frames() != c.frames || m.FPS != c.fps || m.Skel.Joints[0].Name != c.root {
				t.Fatalf("%d joints × %d frames at %v fps, root %q; want %d × %d at %v, root %q",
					m.Skel.Len(), m.Frames(), m.FPS, m.Skel.Joints[0].Name, c.joints, c.frames, c.fps, c.root)
			}
			// Real captures move smoothly: no joint jumps more than 30 cm
			// (in the file's units: centimetres or CMU's ~5.6 cm) between
			// frames, which a misaligned channel or wrong Euler order would
			// break immediately.
			unit := 1.0
			if strings.HasPrefix(c.file, "cmu") {
				unit = 100 * cmuUnit
			}
			n := m.Skel.Len()
			pos := m.WorldPositions()
			for f := 1; f < m.Frames(); f++ {
				if f == 1 && c.tpose {
					continue
				}
				for j := range n {
					if d := pos[f*n+j].Sub(pos[(f-1)*n+j]).Len() * unit; d > 30 {
						t.Fatalf("frame %d: %s moved %.1f cm in one frame", f, m.Skel.Joints[j].Name, d)
					}
				}
			}
		})
	}
}

// TestRootOffsetConvention documents why the root's position channels are
// added to its OFFSET: in the iClone files (root OFFSET 0 105.2 0 cm,
// Yposition ≈ 7 at the T-pose frame 0) only OFFSET + channel stands the
// character on the floor.
func TestRootOffsetConvention(t *testing.T) {
	lowest := func(path string) (hips, low float64, rootOffsetY float64) {
		m, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		n := m.Skel.Len()
		pos := make([]mgl64.Vec3, n)
		rot := make([]mgl64.Quat, n)
		m.Pose(0, pos, rot)
		low = math.Inf(1)
		for j := 1; j < n; j++ { // joint 0 of the RL_BoneRoot files sits on the floor
			low = min(low, pos[j][1])
		}
		h, _ := m.Skel.Index("CC_Base_Hip")
		return pos[h][1], low, m.Skel.Joints[0].Offset[1]
	}
	hips, low, off := lowest(testdataPath(t, "iclone_01_01_jump.bvh"))
	if off < 100 {
		t.Fatalf("root OFFSET y = %v; the test expects iClone's 105", off)
	}
	if hips < 95 || hips > 125 || low < 0 || low > 20 {
		t.Errorf("frame 0: hips at %.1f cm, lowest joint at %.1f cm; want hips ≈ 1 m and feet near the floor", hips, low)
	}
	if low-off > -80 {
		t.Errorf("with an absolute channel the lowest joint would be at %.1f cm; the test's premise fails", low-off)
	}
	// The iClone files whose root is an extra RL_BoneRoot with OFFSET 0
	// (where both conventions agree) stand at the same height.
	t.Run("same height as RL_BoneRoot files", func(t *testing.T) {
		_, ref, refOff := lowest(testdataPath(t, "iclone101_02_01_walk.bvh"))
		if refOff != 0 || math.Abs(ref-low) > 10 {
			t.Errorf("lowest joint %.1f cm (01_01) vs %.1f cm (002_01, root OFFSET %v)", low, ref, refOff)
		}
	})
}
