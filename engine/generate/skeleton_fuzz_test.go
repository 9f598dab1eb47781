package generate

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/motionstudio/studio/assets/models"
	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/internal/testtools"
)

// FuzzCustomSkeleton decodes requests on the bundled model's caps, which
// retarget onto a request's own skeleton and take motion_reference clips:
// whatever the skeleton or clip (cycles, huge or missing offsets, thousands
// of joints), the answer is a request or a typed MMCP error, never a panic.
func FuzzCustomSkeleton(f *testing.F) {
	fsys, err := models.Bundle("cmu-small-v1")
	if err != nil {
		f.Fatal(err)
	}
	man, err := model.LoadManifestFS(fsys)
	if err != nil {
		f.Fatal(err)
	}
	lay, err := model.LayoutFromManifest(man)
	if err != nil {
		f.Fatal(err)
	}
	caps := request.Caps{Models: []request.ModelCaps{CapsFor(man, lay)}}
	example, err := os.ReadFile(filepath.Join(testtools.MMCPData(f), "examples", "request_constraints_custom_skeleton.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	ref, err := os.ReadFile(filepath.Join(testtools.MMCPData(f), "examples", "request_motion_reference_1_2.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ref)
	f.Add([]byte(`{"protocol_version":"1.3","model":"cmu-small-v1","skeleton":{"joints":[{"name":"Hips","parent":"Spine"},{"name":"Spine","parent":"Hips"}]},"segments":[{"type":"text","prompt":"walk","duration_frames":30}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := request.Decode(data, caps); err != nil {
			var me *request.Error
			if !errors.As(err, &me) {
				t.Fatalf("untyped error %v", err)
			}
		}
	})
}
