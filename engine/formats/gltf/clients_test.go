package gltf

import (
	"path/filepath"
	"testing"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/testmotion"
	"github.com/motionstudio/studio/internal/testtools"
)

// mocapClips are real CMU clips, one per rig family we read: the excerpts
// of testdata/bvh (see its README).
var mocapClips = []string{
	"cmu_16_11_walk_veer_left.bvh", // 31 joints, MotionBuilder names, 120 fps
	"daz_02_01_walk.bvh",           // 43-joint DAZ-friendly rig
	"cmu31_16_01_jump.bvh",         // 31-joint CMU rig, 30 fps
	"iclone_01_01_jump.bvh",        // iClone CC_Base, 100 joints
	"daz_60_15_salsa.bvh",          // DAZ rig, a dance
}

func TestValidator(t *testing.T) {
	dir := t.TempDir()
	type tc struct {
		name   string
		ms     []*motion.Motion
		opt    Options
		binary bool
		noMesh bool
	}
	var cases []tc
	for _, c := range roundTripCases(t) {
		cases = append(cases, tc{c.name, c.ms, c.opt, c.binary, c.noMesh})
	}
	for _, rel := range mocapClips {
		cases = append(cases, tc{name: rel, ms: []*motion.Motion{testmotion.Clip(t, rel)}, binary: true})
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ext := ".gltf"
			if c.binary {
				ext = ".glb"
			}
			path := filepath.Join(dir, "case"+string(rune('a'+i))+ext)
			if err := WriteFile(path, c.ms, c.opt); err != nil {
				t.Fatal(err)
			}
			r := testtools.ValidateGLTF(t, path)
			var expected []string
			if c.opt.NoBody || c.noMesh {
				// Info: the skin is kept without a mesh, for importers that
				// build an armature from it (Blender).
				expected = append(expected, "UNUSED_OBJECT")
			}
			requireClean(t, r, expected...)
			if r.Info.AnimationCount != len(c.ms) || !r.Info.HasSkins {
				t.Errorf("validator info: %+v", r.Info)
			}
			if !c.opt.NoBody && !c.noMesh && (r.Info.DrawCallCount != 1 || r.Info.MaxInfluences == 0 || r.Info.TotalVertexCount < 300) {
				t.Errorf("validator info: %+v", r.Info)
			}
			t.Logf("%s: %d vertices, %d infos, %d hints", c.name, r.Info.TotalVertexCount, r.Issues.NumInfos, r.Issues.NumHints)
		})
	}
}

// TestValidatorExtension: a document-level MMCP_motion extension is valid
// glTF; the validator only notes (severity info) that it does not know it.
func TestValidatorExtension(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ext.glb")
	m := waveMotion(motion.SOMA77(), 30, 30, 0)
	ext := map[string]any{"MMCP_motion": map[string]any{"version": "1.3", "fps": 30.0}}
	if err := WriteFile(path, []*motion.Motion{m}, Options{Extensions: ext}); err != nil {
		t.Fatal(err)
	}
	requireClean(t, testtools.ValidateGLTF(t, path), "UNSUPPORTED_EXTENSION")
}

// TestRoundTripMocap reads real clips back through the structure checks: the
// file's own node hierarchy plays to our forward kinematics.
func TestRoundTripMocap(t *testing.T) {
	for _, rel := range mocapClips[:4] {
		t.Run(rel, func(t *testing.T) {
			ms := []*motion.Motion{testmotion.Clip(t, rel)}
			checkDocument(t, decode(t, encode(t, ms, Options{}, true)), ms, false, nil)
		})
	}
}
