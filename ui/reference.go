package ui

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"

	"github.com/motionstudio/studio/engine/formats/clip"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/project"
)

// prefClipDir is where clips were last taken from.
const prefClipDir = "clip.dir"

var clipFilters = []fileFilter{{"Motion clip (BVH, FBX, glTF)", clip.Extensions}}

// errNoTakeShown: Use take as prompt needs a take in the viewport.
var errNoTakeShown = errors.New("show a generated take first (pick one in the history): its shown sample becomes the clip")

// dropped takes files dropped on the window: clips over the prompt track
// become reference segments where they land. pos is in the window's
// canvas; the studio's window passes it to Window.SetOnDropped.
func (s *Studio) dropped(pos fyne.Position, uris []fyne.URI) {
	if len(uris) == 0 {
		return
	}
	local := pos
	if a := fyne.CurrentApp(); a != nil && a.Driver() != nil {
		local = pos.Subtract(a.Driver().AbsolutePositionForObject(s.Timeline))
	}
	frame, ok := s.Timeline.PromptFrameAt(local)
	if !ok {
		s.status.set("Drop a clip onto the prompt track to use it as a prompt")
		return
	}
	paths := make([]string, len(uris))
	for i, u := range uris {
		if u.Scheme() != "file" {
			dialog.ShowError(fmt.Errorf("cannot use %s as a prompt: only files on this computer can be dropped", u), s.Window)
			return
		}
		paths[i] = u.Path()
	}
	s.doc.addClipFiles(paths, frame)
}

// askClip asks for a clip file and adds it at the playhead; the same path
// as a drop, for those without drag and drop.
func (d *documentPanel) askClip() {
	d.files.ask(fileQuestion{title: "Use a clip as a prompt", dir: d.prefs.StringWithFallback(prefClipDir, homeDir()),
		filters: clipFilters}, func(path string) { d.addClipFiles([]string{path}, d.playhead()) })
}

// addClipFiles reads the clips at paths and adds them, in order, as
// reference segments at the segment boundary nearest frame. A file that is
// no clip, or that cannot be read, is named in a dialog and nothing is
// added.
func (d *documentPanel) addClipFiles(paths []string, frame int) {
	fps := d.ed.Project().Timeline.FPS
	refs := make([]*project.Reference, 0, len(paths))
	var problems []string
	for _, path := range paths {
		ref, err := readReference(path, fps)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		refs = append(refs, ref)
	}
	if len(problems) > 0 {
		dialog.ShowError(fmt.Errorf("cannot use as a prompt:\n%s", strings.Join(problems, "\n")), d.win)
		return
	}
	d.prefs.SetString(prefClipDir, filepath.Dir(paths[0]))
	d.addReferences(refs, frame)
}

// readReference reads a clip file (the first take of several) as a
// reference clip.
func readReference(path string, fps float64) (*project.Reference, error) {
	name := filepath.Base(path)
	if !clip.Readable(path) {
		return nil, fmt.Errorf("%s: not a motion clip (the studio takes .%s files)", name, strings.Join(clip.Extensions, ", ."))
	}
	ms, err := clip.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ref, err := project.NewReference(ms[0], name, fps)
	if err != nil {
		return nil, err
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	ref.Source = path
	return ref, nil
}

// useClip adds m (a take's sample) as a reference segment at the playhead.
func (d *documentPanel) useClip(m *motion.Motion, name, takeID string) {
	ref, err := project.NewReference(m, name, d.ed.Project().Timeline.FPS)
	if err != nil {
		dialog.ShowError(fmt.Errorf("cannot use the take as a prompt: %w", err), d.win)
		return
	}
	ref.Take = takeID
	d.addReferences([]*project.Reference{ref}, d.playhead())
}

// addReferences inserts the clips one after another at the segment
// boundary nearest frame (each one undo step) and selects the last.
func (d *documentPanel) addReferences(refs []*project.Reference, frame int) {
	at := d.ed.Project().InsertIndex(frame)
	var id string
	for _, ref := range refs {
		var err error
		if id, err = d.ed.AddReference(at, ref, 0); err != nil {
			d.status.report(err)
			return
		}
		at++
	}
	d.added(id, nil)
	last := refs[len(refs)-1]
	d.status.set(fmt.Sprintf("Clip %s as a prompt: %d frames at %g fps", last.Name, last.Frames(), last.FPS))
}

// useTakeAsPrompt makes the shown take's sample (the picked one, else the
// first) a reference segment at the playhead.
func (g *generationPanel) useTakeAsPrompt() {
	ms := g.chosenMotions()
	if len(ms) == 0 || g.result == nil {
		g.status.report(errNoTakeShown)
		return
	}
	sample := max(g.chosen(), 0) + 1
	name := fmt.Sprintf("take %s · sample %d", g.takePrompt, sample)
	if r := []rune(name); len(r) > 60 {
		name = string(r[:59]) + "…"
	}
	g.doc.useClip(ms[0], name, g.takeID)
}
