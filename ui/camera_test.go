package ui

import (
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/viewer/scene"
)

// TestStudioFramesTheTakeShown: a take that walks 6 m away from the
// origin is in view once shown, its start and its end.
func TestStudioFramesTheTakeShown(t *testing.T) {
	s := newStudio(t)
	m := motion.New(motion.SOMA77(), 30, 150)
	for f := range m.Root {
		m.Root[f] = m.Root[f].Add(mgl64.Vec3{0.01 * float64(f), 0, 0.04 * float64(f)})
	}
	var cam scene.Camera
	onFyne(func() {
		s.gen.showTake(take{Label: "a person walks far", Result: &generate.Result{Motions: []*motion.Motion{m}}})
		cam = s.Viewport.Camera()
	})
	for _, f := range []int{0, 75, 149} {
		x, y, ok := cam.Project(m.Root[f])
		if !ok || x < 0 || y < 0 || x > float64(cam.Width) || y > float64(cam.Height) {
			t.Errorf("the root at frame %d %v projects to (%.0f, %.0f) in a %d×%d view", f, m.Root[f], x, y, cam.Width, cam.Height)
		}
	}
}
