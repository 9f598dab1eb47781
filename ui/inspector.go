package ui

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/motionstudio/studio/engine/formats/rig"
	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/engine/retarget"
	"github.com/motionstudio/studio/project"
)

// effectorJoints are the joints an effector target may pin.
var effectorJoints = []string{"LeftHand", "RightHand", "LeftFoot", "RightFoot", "Head", "Hips"}

// guidanceChoices map the inspector's labels to project.Options.Guidance.
var guidanceChoices = []struct{ label, value string }{
	{"Model's default", ""},
	{"None (no CFG)", request.GuidanceNoCFG},
	{"Regular (text)", request.GuidanceRegular},
	{"Separated (text, constraints)", request.GuidanceSeparated},
}

// inspector is the right-hand panel: the selected segment or constraint,
// the buttons that add constraints, and the generation options.
type inspector struct {
	d          *documentPanel
	selection  *fyne.Container
	options    *fyne.Container
	root       fyne.CanvasObject
	joint      *widget.Select
	loop       *widget.Check  // Options.Loop
	character  *widget.Select // Options.Character
	nameJoints *widget.Button // opens names for the character's rig
	names      *nameMapEditor // the last name map dialog opened
	redo       *redoRange     // Regenerate range
	syncing    bool           // widgets are being set from the project, not by the user
	shown      string         // what the forms show (see refresh)
}

func newInspector(d *documentPanel) *inspector {
	in := &inspector{d: d, selection: container.NewVBox(), options: container.NewVBox()}
	in.joint = widget.NewSelect(effectorJoints, nil)
	in.joint.SetSelected("RightHand")
	add := container.NewVBox(
		widget.NewButtonWithIcon("Root key at the playhead", theme.ContentAddIcon(), d.addRootKey),
		container.NewBorder(nil, nil, nil, widget.NewButtonWithIcon("Target", theme.ContentAddIcon(),
			func() { d.addEffector(in.joint.Selected) }), in.joint),
		widget.NewButtonWithIcon("Pose key from this frame", theme.ContentAddIcon(), d.addPoseKey),
	)
	var redo fyne.CanvasObject
	in.redo, redo = newRedoRange(d)
	in.root = container.NewVScroll(container.NewVBox(
		heading("Selection"), in.selection,
		widget.NewSeparator(), heading("Add a constraint"), add,
		widget.NewSeparator(), heading("Add a clip as a prompt"),
		widget.NewButtonWithIcon("Clip as prompt…", theme.FolderOpenIcon(), d.askClip),
		widget.NewSeparator(), heading("Redo part of the take"), redo,
		widget.NewSeparator(), heading("Generation"), in.options,
	))
	in.refresh()
	return in
}

func heading(text string) *widget.Label {
	return widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

// refresh shows the project's state; on Fyne's goroutine. It rebuilds
// the forms only when what they show changed, so a take arriving while
// the user types in a field does not take the field away.
func (in *inspector) refresh() {
	p := in.d.ed.Project()
	key := fmt.Sprintf("%p|%s|%v|%v", in.d.ed, in.d.selected, p.Timeline, p.Options)
	if key == in.shown {
		return
	}
	in.shown = key
	in.syncing = true
	defer func() { in.syncing = false }()
	in.selection.Objects = in.selectionForm()
	in.selection.Refresh()
	in.options.Objects = in.optionsForm()
	in.options.Refresh()
}

// field is an entry that applies its text when Enter is pressed or it
// loses focus; apply's error goes to the status bar and the entry keeps
// what the project holds.
func (in *inspector) field(value string, apply func(string) error) *widget.Entry {
	e := widget.NewEntry()
	e.SetText(value)
	commit := func(text string) {
		if in.syncing || text == value {
			return
		}
		if err := apply(strings.TrimSpace(text)); err != nil {
			in.d.status.report(err)
			e.SetText(value)
		}
	}
	e.OnSubmitted = commit
	return e
}

func atoi(s, what string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a whole number", what, s)
	}
	return n, nil
}

func atof(s, what string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%s: %q is not a number", what, s)
	}
	return f, nil
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }

// selectionForm is the form of what the timeline has selected.
func (in *inspector) selectionForm() []fyne.CanvasObject {
	p := in.d.ed.Project()
	id := in.d.selected
	tl := &p.Timeline
	var items []*widget.FormItem
	switch p.KindOf(id) {
	case project.ItemSegment:
		if i := slices.IndexFunc(tl.Segments, func(s project.Segment) bool { return s.ID == id }); i >= 0 {
			items = in.segmentForm(p, i)
		}
	case project.ItemRootKey:
		if i := slices.IndexFunc(tl.RootKeys, func(k project.RootKey) bool { return k.ID == id }); i >= 0 {
			items = in.rootKeyForm(tl.RootKeys[i])
		}
	case project.ItemEffector:
		if i := slices.IndexFunc(tl.Effectors, func(e project.Effector) bool { return e.ID == id }); i >= 0 {
			items = in.effectorForm(tl.Effectors[i])
		}
	case project.ItemPoseKey:
		if i := slices.IndexFunc(tl.PoseKeys, func(k project.PoseKey) bool { return k.ID == id }); i >= 0 {
			k := tl.PoseKeys[i]
			items = []*widget.FormItem{
				widget.NewFormItem("Pose key", widget.NewLabel(fmt.Sprintf("%d joints", len(k.Rotations)))),
				widget.NewFormItem("Frame", in.frameField(id, k.Frame)),
				widget.NewFormItem("", widget.NewButton("Take the shown pose", func() { in.d.repose(id) })),
			}
		}
	}
	if items == nil {
		return []fyne.CanvasObject{widget.NewLabel("Select a segment or a key on the timeline.")}
	}
	return []fyne.CanvasObject{widget.NewForm(items...)}
}

// frameField moves key id to the frame typed.
func (in *inspector) frameField(id string, frame int) *widget.Entry {
	return in.field(strconv.Itoa(frame), func(t string) error {
		f, err := atoi(t, "frame")
		if err != nil {
			return err
		}
		return in.d.ed.MoveKey(id, f)
	})
}

// segmentForm is the form of p's segment i.
func (in *inspector) segmentForm(p *project.Project, i int) []*widget.FormItem {
	d, ed, tl := in.d, in.d.ed, &p.Timeline
	seg := tl.Segments[i]
	id := seg.ID
	if seg.Ref != nil {
		return in.referenceForm(p, i)
	}
	kind := widget.NewSelect([]string{project.KindText, project.KindUnconditioned}, func(k string) {
		if !in.syncing {
			d.status.report(ed.SetSegmentKind(id, k))
		}
	})
	kind.SetSelected(seg.Kind)
	prompt := in.field(seg.Prompt, func(t string) error { return ed.SetPrompt(id, t) })
	// How the model reads the prompt, as it is typed.
	words := in.wordsLabel(seg.Prompt)
	prompt.OnChanged = func(t string) { in.setWords(words, t) }
	if seg.Kind != project.KindText {
		words.Hide()
		prompt.OnChanged = nil
	}
	frames := in.field(strconv.Itoa(seg.Frames), func(t string) error {
		n, err := atoi(t, "frames")
		if err != nil {
			return err
		}
		return ed.ResizeSegment(id, n)
	})
	start := p.SegmentStart(i)
	return []*widget.FormItem{
		widget.NewFormItem("Segment", widget.NewLabel(fmt.Sprintf("%d of %d · frames %d–%d", i+1, len(tl.Segments), start, start+seg.Frames-1))),
		widget.NewFormItem("Kind", kind),
		widget.NewFormItem("Prompt", container.NewVBox(prompt, words)),
		widget.NewFormItem("Frames", container.NewBorder(nil, nil, nil,
			widget.NewLabel(fmt.Sprintf("%.2f s", float64(seg.Frames)/tl.FPS)), frames)),
	}
}

// referenceForm is the form of p's reference segment i: where its clip
// came from and what it holds, and its length on the timeline.
func (in *inspector) referenceForm(p *project.Project, i int) []*widget.FormItem {
	tl := &p.Timeline
	seg := tl.Segments[i]
	ref, id := seg.Ref, seg.ID
	source := ref.Source
	switch {
	case source == "" && ref.Take != "":
		source = "take " + ref.Take
	case source == "":
		source = "(not recorded)"
	}
	rig := "SOMA77 (the model's)"
	if ref.Skeleton != nil {
		rig = fmt.Sprintf("its own, %d joints", len(ref.Skeleton.Joints))
	}
	label := func(text string) *widget.Label {
		l := widget.NewLabel(text)
		l.Wrapping = fyne.TextWrapBreak
		return l
	}
	frames := in.field(strconv.Itoa(seg.Frames), func(t string) error {
		n, err := atoi(t, "frames")
		if err != nil {
			return err
		}
		return in.d.ed.ResizeSegment(id, n)
	})
	start := p.SegmentStart(i)
	return []*widget.FormItem{
		widget.NewFormItem("Segment", widget.NewLabel(fmt.Sprintf("%d of %d · frames %d–%d", i+1, len(tl.Segments), start, start+seg.Frames-1))),
		widget.NewFormItem("Clip", label(ref.Name)),
		widget.NewFormItem("Strength", in.strengthSlider(id, ref.Strength)),
		widget.NewFormItem("Source", label(source)),
		widget.NewFormItem("Clip frames", widget.NewLabel(fmt.Sprintf("%d at %g fps (%.2f s)", ref.Frames(), ref.FPS, float64(ref.Frames()-1)/ref.FPS))),
		widget.NewFormItem("Joints", widget.NewLabel(fmt.Sprintf("%d posed · rig %s", len(ref.JointNames), rig))),
		widget.NewFormItem("Frames", container.NewBorder(nil, nil, nil,
			widget.NewLabel(fmt.Sprintf("%.2f s", float64(seg.Frames)/tl.FPS)), frames)),
	}
}

// strengthSlider sets how closely reference segment id's take follows its
// clip (nil: the engine's default), from 0 (the model's own motion, on the
// clip's path) to 1 (the clip nearly as it is), once the drag ends.
func (in *inspector) strengthSlider(id string, strength *float64) fyne.CanvasObject {
	v := generate.DefaultReferenceStrength
	if strength != nil {
		v = *strength
	}
	shown := widget.NewLabel(fmt.Sprintf("%.2f", v))
	sl := widget.NewSlider(0, 1)
	sl.Step = 0.05
	sl.SetValue(v)
	sl.OnChanged = func(x float64) { shown.SetText(fmt.Sprintf("%.2f", x)) }
	sl.OnChangeEnded = func(x float64) {
		if !in.syncing && (strength == nil || x != *strength) {
			in.d.status.report(in.d.ed.SetReferenceStrength(id, math.Round(x*100)/100))
		}
	}
	return container.NewBorder(nil, nil, nil, shown, sl)
}

// rootKeyForm is the form of root key k.
func (in *inspector) rootKeyForm(k project.RootKey) []*widget.FormItem {
	ed, id := in.d.ed, k.ID
	heading := ""
	if k.Heading != nil {
		heading = num(*k.Heading * 180 / math.Pi)
	}
	pos := func(axis int) *widget.Entry {
		v := [2]float64{k.X, k.Z}
		return in.field(num(v[axis]), func(t string) error {
			f, err := atof(t, "position")
			if err != nil {
				return err
			}
			v[axis] = f
			return ed.SetRootKeyPos(id, v[0], v[1])
		})
	}
	return []*widget.FormItem{
		widget.NewFormItem("Root key", widget.NewLabel("drag it on the floor in the viewport")),
		widget.NewFormItem("Frame", in.frameField(id, k.Frame)),
		widget.NewFormItem("X (m)", pos(0)),
		widget.NewFormItem("Z (m)", pos(1)),
		widget.NewFormItem("Heading (°)", in.field(heading, func(t string) error {
			if t == "" {
				return ed.SetHeading(id, nil)
			}
			deg, err := atof(t, "heading")
			if err != nil {
				return err
			}
			r := deg * math.Pi / 180
			return ed.SetHeading(id, &r)
		})),
	}
}

// effectorForm is the form of effector target e.
func (in *inspector) effectorForm(e project.Effector) []*widget.FormItem {
	ed, id := in.d.ed, e.ID
	pos := func(axis int) *widget.Entry {
		v := e.Pos
		return in.field(num(v[axis]), func(t string) error {
			f, err := atof(t, "position")
			if err != nil {
				return err
			}
			v[axis] = f
			return ed.SetEffectorPos(id, v)
		})
	}
	place := widget.NewButton("Place on the floor…", func() { in.d.placeEffector(id) })
	return []*widget.FormItem{
		widget.NewFormItem("Target", widget.NewLabel(e.Joint)),
		widget.NewFormItem("Frame", in.frameField(id, e.Frame)),
		widget.NewFormItem("X (m)", pos(0)),
		widget.NewFormItem("Height (m)", pos(1)),
		widget.NewFormItem("Z (m)", pos(2)),
		widget.NewFormItem("", place),
	}
}

// optionsForm is the form of the project's generation options.
func (in *inspector) optionsForm() []fyne.CanvasObject {
	o := in.d.ed.Project().Options
	toggle := func(label string, on bool, change func(*project.Options, bool)) *widget.Check {
		c := widget.NewCheck(label, func(b bool) { in.choose(func(o *project.Options) { change(o, b) }) })
		c.SetChecked(on)
		return c
	}
	steps := in.optionField(strconv.Itoa(o.Steps), func(o *project.Options, t string) (err error) {
		o.Steps, err = atoi(t, "steps")
		return
	})
	seed := in.optionField(strconv.FormatInt(o.Seed, 10), func(o *project.Options, t string) error {
		v, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return fmt.Errorf("seed: %q is not a whole number", t)
		}
		o.Seed, o.RandomSeed = v, false
		return nil
	})
	dice := widget.NewButtonWithIcon("", theme.ViewRefreshIcon(), func() {
		in.choose(func(o *project.Options) { o.Seed, o.RandomSeed = rand.Int64N(1<<53), false })
	})
	samples := widget.NewSelect([]string{"1", "2", "3", "4", "6", "8"}, func(v string) {
		n, err := strconv.Atoi(v)
		if err == nil {
			in.choose(func(o *project.Options) { o.Samples = n })
		}
	})
	samples.SetSelected(strconv.Itoa(o.Samples))
	weight := func(v float64, what string, put func(*project.Options, float64)) *widget.Entry {
		return in.optionField(num(v), func(o *project.Options, t string) error {
			f, err := atof(t, what)
			put(o, f)
			return err
		})
	}
	trans := in.optionField(strconv.Itoa(o.TransitionFrames), func(o *project.Options, t string) (err error) {
		o.TransitionFrames, err = atoi(t, "transition frames")
		return
	})
	in.loop = toggle("Loop", o.Loop, func(o *project.Options, b bool) { o.Loop = b })
	loopHint := "the last frame meets the first: plays as a cycle"
	if n := len(in.d.ed.Project().Timeline.Segments); n > 1 {
		loopHint = fmt.Sprintf("a loop is one segment; the timeline has %d", n)
		if !o.Loop { // one set already stays, so it can be unticked
			in.loop.Disable()
		}
	}
	in.character = in.characterSelect(o.Character)
	in.nameJoints = widget.NewButton("Name joints…", func() { in.editNames(in.d.ed.Project().Options.Character) })
	if o.Character == "" {
		in.nameJoints.Disable()
	}
	return []fyne.CanvasObject{widget.NewForm(
		widget.NewFormItem("Steps", container.NewBorder(nil, nil, nil, widget.NewLabel("0: the model's"), steps)),
		widget.NewFormItem("Seed", container.NewBorder(nil, nil, nil, dice, seed)),
		widget.NewFormItem("", toggle("New seed each time", o.RandomSeed, func(o *project.Options, b bool) { o.RandomSeed = b })),
		widget.NewFormItem("Samples", samples),
		widget.NewFormItem("Guidance", in.guidanceSelect(o.Guidance)),
		widget.NewFormItem("Text weight", weight(o.TextWeight, "text weight", func(o *project.Options, f float64) { o.TextWeight = f })),
		widget.NewFormItem("Constraint weight", weight(o.ConstraintWeight, "constraint weight", func(o *project.Options, f float64) { o.ConstraintWeight = f })),
		widget.NewFormItem("Transition frames", trans),
		&widget.FormItem{Widget: toggle("Post-processing", o.PostProcessing, func(o *project.Options, b bool) { o.PostProcessing = b }),
			HintText: "feet on the floor, no skate, exact keys"},
		widget.NewFormItem("Frame rate", in.fpsSelect()),
		&widget.FormItem{Widget: in.loop, HintText: loopHint},
		&widget.FormItem{Text: "Character", Widget: container.NewBorder(nil, nil, nil, in.nameJoints, in.character),
			HintText: "the rig the take is shown on and exported to; Name joints… says which SOMA77 joint drives each of its joints"},
	)}
}

// characterSelect picks the project's character: SOMA77, a preset, or a
// BVH rig asked for with "Load rig…" (the current one listed by name).
func (in *inspector) characterSelect(current string) *widget.Select {
	labels := []string{somaLabel}
	for _, p := range characterPresets {
		labels = append(labels, p.label)
	}
	shown := characterLabel(current)
	if !slices.Contains(labels, shown) {
		labels = append(labels, shown)
	}
	labels = append(labels, loadRigLabel)
	sel := widget.NewSelect(labels, func(l string) {
		switch {
		case in.syncing:
		case l == loadRigLabel:
			in.askRig()
		case l == shown:
		case l == somaLabel:
			in.choose(func(o *project.Options) { o.Character, o.CharacterMap, o.CharacterNames = "", "", nil })
		default:
			for _, p := range characterPresets {
				if p.label == l {
					in.choose(func(o *project.Options) { o.Character, o.CharacterMap, o.CharacterNames = p.preset, "", nil })
				}
			}
		}
	})
	sel.SetSelected(shown)
	return sel
}

// askRig asks for a rig file and makes it the character; the picker shows
// the project's character again whether or not one was chosen.
func (in *inspector) askRig() {
	in.shown = "" // rebuild the picker from the project
	in.refresh()
	in.d.files.ask(fileQuestion{title: "Load a character's rig", dir: in.d.prefs.StringWithFallback(prefRigDir, homeDir()),
		filters: rigFilters}, func(path string) { in.setRig(path) })
}

// setRig makes the rig at path the character, when it loads; a rig
// whose joints are not recognised opens the name map dialog on it.
func (in *inspector) setRig(path string) {
	c := loadCharacter(project.Options{Character: path})
	var te *retarget.TargetError
	switch {
	case c.err == nil:
		in.d.prefs.SetString(prefRigDir, filepath.Dir(path))
		in.choose(func(o *project.Options) { o.Character, o.CharacterMap, o.CharacterNames = path, "", nil })
	case errors.As(c.err, &te):
		in.d.prefs.SetString(prefRigDir, filepath.Dir(path))
		in.d.status.report(fmt.Errorf("%w; name its joints", c.err))
		in.editNames(path)
	default:
		in.d.status.report(c.err)
	}
}

// editNames opens the name map dialog on spec's rig, started from the
// project's map when spec is its character, else from what the joints'
// names suggest. Saving makes spec the character with that map.
func (in *inspector) editNames(spec string) {
	skel, start, what, err := rig.Skeleton(spec)
	if err != nil {
		in.d.status.report(err)
		return
	}
	o := in.d.ed.Project().Options
	switch {
	case spec == o.Character && len(o.CharacterNames) > 0:
		start = retarget.NameMap(o.CharacterNames)
	case start != nil: // a preset's own names
	case spec == o.Character && o.CharacterMap != "":
		if _, m, _, err := rig.Load(spec, o.CharacterMap); err == nil {
			start = m
		}
	}
	if start == nil {
		start = retarget.GuessNames(skel.Names())
	}
	in.names = newNameMapEditor(in.d.win, what, skel, start, func(m retarget.NameMap) error {
		no := in.d.ed.Project().Options
		no.Character, no.CharacterMap, no.CharacterNames = spec, "", map[string]string(m)
		return in.d.ed.SetOptions(no)
	})
}

// optionField is an entry that applies one option typed into it.
func (in *inspector) optionField(value string, change func(o *project.Options, text string) error) *widget.Entry {
	return in.field(value, func(t string) error {
		no := in.d.ed.Project().Options
		if err := change(&no, t); err != nil {
			return err
		}
		return in.d.ed.SetOptions(no)
	})
}

// choose applies an option picked from a widget (not one set from the
// project).
func (in *inspector) choose(change func(o *project.Options)) {
	if in.syncing {
		return
	}
	no := in.d.ed.Project().Options
	change(&no)
	in.d.status.report(in.d.ed.SetOptions(no))
}

// guidanceSelect picks the guidance, current first.
func (in *inspector) guidanceSelect(current string) *widget.Select {
	var labels []string
	shown := guidanceChoices[0].label
	for _, g := range guidanceChoices {
		labels = append(labels, g.label)
		if g.value == current {
			shown = g.label
		}
	}
	sel := widget.NewSelect(labels, func(l string) {
		for _, g := range guidanceChoices {
			if g.label == l {
				in.choose(func(o *project.Options) { o.Guidance = g.value })
			}
		}
	})
	sel.SetSelected(shown)
	return sel
}

// fpsRates are the frame rates offered; the take is generated at the
// model's and resampled to the timeline's.
var fpsRates = []string{"24", "25", "30", "50", "60"}

// fpsSelect sets the timeline's frame rate, keeping every segment's and
// key's time.
func (in *inspector) fpsSelect() *widget.Select {
	sel := widget.NewSelect(fpsRates, func(v string) {
		if in.syncing {
			return
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			in.d.status.report(in.d.ed.SetFPS(f))
		}
	})
	sel.SetSelected(strconv.FormatFloat(in.d.ed.Project().Timeline.FPS, 'f', -1, 64))
	return sel
}
