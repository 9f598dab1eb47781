package project

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"
)

// UndoDepth is how many edits Undo can take back; older ones are dropped.
const UndoDepth = 200

// Editor owns a project and edits it. Every edit of the timeline or the
// options is one undo step; an edit is validated first, and a refused one
// (an error wrapping ErrInvalid or ErrNotFound) changes nothing and pushes
// no step. An edit that changes nothing pushes no step either.
//
// Takes are history, not edits: AddTake and DeleteTake are not undone (Undo
// restores the timeline and the options and leaves the takes alone), but
// they do make the project dirty.
//
// An Editor is not safe for concurrent use: the UI goroutine owns it; to
// save from another goroutine, save a Clone of Project().
type Editor struct {
	// OnChange, when set, is called after every edit, undo, redo and change
	// of the takes (not after a refused or empty edit, nor MarkSaved).
	OnChange func()

	p          *Project
	undo, redo []state
	rev        uint64 // the current state's revision
	lastRev    uint64 // the newest revision handed out
	savedRev   uint64
	takesDirty bool
	next       int // the id counter: never reused within a session
}

// state is one undo step: the document before (or, on the redo stack,
// after) an edit, with its revision for Dirty.
type state struct {
	tl  Timeline
	opt Options
	rev uint64
}

// NewEditor edits p (New() when nil), which it owns from now on: change it
// only through the Editor. The editor starts clean (not Dirty) with nothing
// to undo; items without ids get one and constraints are put in order.
func NewEditor(p *Project) *Editor {
	if p == nil {
		p = New()
	}
	p.fillIDs()
	p.Timeline.normalize()
	return &Editor{p: p, next: p.idCounter()}
}

// Project is the live document, for reading only: it is the same pointer
// for the Editor's life and shows every edit, undo and redo as soon as it
// is made. Do not modify it or keep slices of it across edits; take a
// Clone to keep a copy (to save in the background, say).
func (e *Editor) Project() *Project { return e.p }

// CanUndo says whether there is an edit to undo.
func (e *Editor) CanUndo() bool { return len(e.undo) > 0 }

// CanRedo says whether there is an undone edit to redo.
func (e *Editor) CanRedo() bool { return len(e.redo) > 0 }

// Undo takes back the last edit; false when there is none.
func (e *Editor) Undo() bool { return e.step(&e.undo, &e.redo) }

// Redo makes the last undone edit again; false when there is none. Any new
// edit clears what there is to redo.
func (e *Editor) Redo() bool { return e.step(&e.redo, &e.undo) }

func (e *Editor) step(from, to *[]state) bool {
	if len(*from) == 0 {
		return false
	}
	s := (*from)[len(*from)-1]
	*from = (*from)[:len(*from)-1]
	*to = push(*to, e.current())
	e.p.Timeline, e.p.Options, e.rev = s.tl, s.opt, s.rev
	e.changed()
	return true
}

// Dirty says whether the project differs from what was last saved
// (MarkSaved): undoing back to the saved state makes it clean again.
func (e *Editor) Dirty() bool { return e.rev != e.savedRev || e.takesDirty }

// MarkSaved records the current state as saved.
func (e *Editor) MarkSaved() {
	e.savedRev = e.rev
	e.takesDirty = false
}

func (e *Editor) current() state {
	return state{tl: e.p.Timeline, opt: e.p.Options, rev: e.rev}
}

func push(stack []state, s state) []state {
	stack = append(stack, s)
	if len(stack) > UndoDepth {
		stack = slices.Delete(stack, 0, len(stack)-UndoDepth)
	}
	return stack
}

func (e *Editor) changed() {
	if e.OnChange != nil {
		e.OnChange()
	}
}

// edit runs f on a copy of the timeline and options and makes the result
// current, as one undo step, when f succeeds and changed something.
func (e *Editor) edit(f func(t *Timeline, o *Options) error) error {
	t, o := e.p.Timeline.clone(), e.p.Options
	if err := f(&t, &o); err != nil {
		return err
	}
	if n := t.TotalFrames(); n > MaxFrames {
		return invalid("the timeline would be %d frames long; the most is %d", n, MaxFrames)
	}
	t.normalize()
	if o.Equal(e.p.Options) && reflect.DeepEqual(t, e.p.Timeline) {
		return nil
	}
	e.undo = push(e.undo, e.current())
	e.redo = nil
	e.lastRev++
	e.p.Timeline, e.p.Options, e.rev = t, o, e.lastRev
	e.changed()
	return nil
}

// newID is a fresh id with the prefix ("s3"): never one in use, nor one
// handed out before in this session.
func (e *Editor) newID(prefix string) string {
	for {
		id := prefix + strconv.Itoa(e.next)
		e.next++
		if e.p.KindOf(id) == "" {
			return id
		}
	}
}

// normalize puts the constraints in order and empty lists to nil (as a
// loaded file has them).
func (t *Timeline) normalize() {
	t.sort()
	if len(t.RootKeys) == 0 {
		t.RootKeys = nil
	}
	if len(t.Effectors) == 0 {
		t.Effectors = nil
	}
	if len(t.PoseKeys) == 0 {
		t.PoseKeys = nil
	}
	if len(t.Path) == 0 {
		t.Path = nil
	}
}

// Frame moves.

// remap moves every constraint's frame through f, removing those f drops.
func (t *Timeline) remap(f func(int) (int, bool)) {
	t.RootKeys = remapKeys(t.RootKeys, func(k *RootKey) *int { return &k.Frame }, f)
	t.Effectors = remapKeys(t.Effectors, func(k *Effector) *int { return &k.Frame }, f)
	t.PoseKeys = remapKeys(t.PoseKeys, func(k *PoseKey) *int { return &k.Frame }, f)
}

func remapKeys[K any](keys []K, frame func(*K) *int, f func(int) (int, bool)) []K {
	out := keys[:0]
	for _, k := range keys {
		p := frame(&k)
		if nf, ok := f(*p); ok {
			*p = nf
			out = append(out, k)
		}
	}
	return out
}

// insertFrames opens n frames at frame at: constraints from there on move
// later by n.
func (t *Timeline) insertFrames(at, n int) {
	t.remap(func(f int) (int, bool) {
		if f >= at {
			return f + n, true
		}
		return f, true
	})
}

// removeFrames cuts frames [lo, hi): constraints on them go, those after
// move earlier.
func (t *Timeline) removeFrames(lo, hi int) {
	t.remap(func(f int) (int, bool) {
		switch {
		case f < lo:
			return f, true
		case f < hi:
			return 0, false
		}
		return f - (hi - lo), true
	})
}

func (t *Timeline) segment(id string) (index, start int, err error) {
	for i, s := range t.Segments {
		if s.ID == id {
			return i, start, nil
		}
		start += s.Frames
	}
	return 0, 0, t.wrongKind(id, "a segment")
}

func checkFrames(frames int) error {
	if frames < 1 || frames > MaxFrames {
		return invalid("a segment is 1 to %d frames long, not %d", MaxFrames, frames)
	}
	return nil
}

func (t *Timeline) checkFrame(frame int) error {
	if n := t.TotalFrames(); frame < 0 || frame >= n {
		return invalid("frame %d is outside the timeline (frames 0 to %d)", frame, n-1)
	}
	return nil
}

// Segments.

// AddSegment inserts a segment before the one at index at (len(Segments)
// appends it) and returns its id; constraints from its first frame on move
// later with the frames they were on. A text segment's prompt may be empty
// while it is being typed; Request refuses it then.
func (e *Editor) AddSegment(at int, kind string, prompt string, frames int) (id string, err error) {
	err = e.edit(func(t *Timeline, _ *Options) error {
		if err := checkKind(kind); err != nil {
			return err
		}
		id, err = e.insertSegment(t, at, Segment{Kind: kind, Prompt: prompt, Frames: frames})
		return err
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// insertSegment puts seg (given a new id) at position at, moving the keys
// after it along.
func (e *Editor) insertSegment(t *Timeline, at int, seg Segment) (string, error) {
	if err := checkFrames(seg.Frames); err != nil {
		return "", err
	}
	if at < 0 || at > len(t.Segments) {
		return "", invalid("a segment can go at positions 0 to %d, not %d", len(t.Segments), at)
	}
	start := 0
	for _, s := range t.Segments[:at] {
		start += s.Frames
	}
	t.insertFrames(start, seg.Frames)
	seg.ID = e.newID("s")
	t.Segments = slices.Insert(t.Segments, at, seg)
	return seg.ID, nil
}

// SetPrompt sets a segment's prompt (kept, but not sent, while the segment
// is unconditioned).
func (e *Editor) SetPrompt(id, text string) error {
	return e.edit(func(t *Timeline, _ *Options) error {
		i, _, err := t.segment(id)
		if err != nil {
			return err
		}
		t.Segments[i].Prompt = text
		return nil
	})
}

// SetSegmentKind makes a segment text or unconditioned.
func (e *Editor) SetSegmentKind(id, kind string) error {
	return e.edit(func(t *Timeline, _ *Options) error {
		i, _, err := t.segment(id)
		if err != nil {
			return err
		}
		if err := checkKind(kind); err != nil {
			return err
		}
		if t.Segments[i].Kind == KindReference {
			return invalid("a reference segment stays one: delete it, or add a %s segment beside it", kind)
		}
		t.Segments[i].Kind = kind
		return nil
	})
}

// ResizeSegment changes a segment's length (at least 1 frame) at its end:
// constraints after it move with the following frames; shrinking removes
// the constraints on the frames cut off.
func (e *Editor) ResizeSegment(id string, frames int) error {
	return e.edit(func(t *Timeline, _ *Options) error {
		i, start, err := t.segment(id)
		if err != nil {
			return err
		}
		if err := checkFrames(frames); err != nil {
			return err
		}
		old := t.Segments[i].Frames
		if frames < old {
			t.removeFrames(start+frames, start+old)
		} else {
			t.insertFrames(start+old, frames-old)
		}
		t.Segments[i].Frames = frames
		return nil
	})
}

// SplitSegment splits the segment under a global frame in two at it: the
// first part ends before the frame, the second (a new segment, whose id it
// returns) starts on it; both keep the kind and prompt. Constraints stay on
// their frames. A frame on a boundary between segments is refused.
func (e *Editor) SplitSegment(frame int) (id string, err error) {
	err = e.edit(func(t *Timeline, _ *Options) error {
		i, start, ok := t.segmentAt(frame)
		switch {
		case !ok:
			return invalid("frame %d is outside the timeline (frames 0 to %d)", frame, t.TotalFrames()-1)
		case frame == start:
			return invalid("frame %d is where a segment starts: split inside a segment", frame)
		case t.Segments[i].Kind == KindReference:
			return invalid("a reference segment plays its clip from the start and cannot be split: shorten it instead")
		}
		s := t.Segments[i]
		second := s
		id = e.newID("s")
		second.ID, second.Frames = id, start+s.Frames-frame
		t.Segments[i].Frames = frame - start
		t.Segments = slices.Insert(t.Segments, i+1, second)
		return nil
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// DeleteSegment removes a segment and the constraints on its frames; those
// after it move earlier. The last segment cannot go.
func (e *Editor) DeleteSegment(id string) error {
	return e.edit(func(t *Timeline, _ *Options) error { return t.deleteSegment(id) })
}

func (t *Timeline) deleteSegment(id string) error {
	i, start, err := t.segment(id)
	if err != nil {
		return err
	}
	if len(t.Segments) == 1 {
		return invalid("the timeline needs at least one segment: this is the last")
	}
	t.removeFrames(start, start+t.Segments[i].Frames)
	t.Segments = slices.Delete(t.Segments, i, i+1)
	return nil
}

// MoveSegment moves a segment to index to (0 to len(Segments)-1) among the
// others. Constraints travel with the frames they are on: those inside the
// moved segment go with it, those of the segments it passes shift.
func (e *Editor) MoveSegment(id string, to int) error {
	return e.edit(func(t *Timeline, _ *Options) error {
		i, _, err := t.segment(id)
		if err != nil {
			return err
		}
		if to < 0 || to >= len(t.Segments) {
			return invalid("a segment can move to positions 0 to %d, not %d", len(t.Segments)-1, to)
		}
		oldStart := starts(t.Segments)
		s := t.Segments[i]
		t.Segments = slices.Insert(slices.Delete(t.Segments, i, i+1), to, s)
		newStart := starts(t.Segments)
		t.remap(func(f int) (int, bool) {
			for _, seg := range t.Segments {
				if o := oldStart[seg.ID]; f >= o && f < o+seg.Frames {
					return newStart[seg.ID] + f - o, true
				}
			}
			return f, true
		})
		return nil
	})
}

func starts(segs []Segment) map[string]int {
	m := make(map[string]int, len(segs))
	n := 0
	for _, s := range segs {
		m[s.ID] = n
		n += s.Frames
	}
	return m
}

// Constraints.

// AddRootKey pins the root on the floor at a frame, heading nil for a free
// one. Root keys never share a frame: one already there takes the new
// values and keeps its id, which is returned.
func (e *Editor) AddRootKey(frame int, x, z float64, heading *float64) (id string, err error) {
	err = e.edit(func(t *Timeline, _ *Options) error {
		if err := t.checkFrame(frame); err != nil {
			return err
		}
		if !finite(x, z) {
			return invalid("a root key's position must be finite numbers")
		}
		h, err := headingCopy(heading)
		if err != nil {
			return err
		}
		k := RootKey{Frame: frame, X: x, Z: z, Heading: h}
		if i := slices.IndexFunc(t.RootKeys, func(k RootKey) bool { return k.Frame == frame }); i >= 0 {
			k.ID = t.RootKeys[i].ID
			t.RootKeys[i] = k
		} else {
			k.ID = e.newID("k")
			t.RootKeys = append(t.RootKeys, k)
		}
		id = k.ID
		return nil
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

func headingCopy(h *float64) (*float64, error) {
	if h == nil {
		return nil, nil
	}
	if !finite(*h) {
		return nil, invalid("a heading must be a finite number of radians")
	}
	v := *h
	return &v, nil
}

// AddEffector pins a joint's world position at a frame. One joint's
// targets never share a frame: one already there takes the new position
// and keeps its id, which is returned.
func (e *Editor) AddEffector(frame int, joint string, pos Vec3) (id string, err error) {
	err = e.edit(func(t *Timeline, _ *Options) error {
		if err := t.checkFrame(frame); err != nil {
			return err
		}
		if joint == "" {
			return invalid("an effector target needs a joint, e.g. LeftHand")
		}
		if !finite(pos[:]...) {
			return invalid("an effector target's position must be finite numbers")
		}
		k := Effector{Frame: frame, Joint: joint, Pos: pos}
		if i := slices.IndexFunc(t.Effectors, func(k Effector) bool { return k.Frame == frame && k.Joint == joint }); i >= 0 {
			k.ID = t.Effectors[i].ID
			t.Effectors[i] = k
		} else {
			k.ID = e.newID("e")
			t.Effectors = append(t.Effectors, k)
		}
		id = k.ID
		return nil
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// AddPoseKey pins a pose at a frame: the root's world position and the
// local rotations of at least one joint (the map is copied). Pose keys
// never share a frame: one already there takes the new pose and keeps its
// id, which is returned.
func (e *Editor) AddPoseKey(frame int, root Vec3, rot map[string]Quat) (id string, err error) {
	err = e.edit(func(t *Timeline, _ *Options) error {
		if err := t.checkFrame(frame); err != nil {
			return err
		}
		if err := checkPose(root, rot); err != nil {
			return err
		}
		k := PoseKey{Frame: frame, Root: root, Rotations: maps.Clone(rot)}
		if i := slices.IndexFunc(t.PoseKeys, func(k PoseKey) bool { return k.Frame == frame }); i >= 0 {
			k.ID = t.PoseKeys[i].ID
			t.PoseKeys[i] = k
		} else {
			k.ID = e.newID("p")
			t.PoseKeys = append(t.PoseKeys, k)
		}
		id = k.ID
		return nil
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// MoveKey moves a constraint (root key, effector target or pose key) to a
// frame, clamped to the timeline. A key of the same kind already on that
// frame (for effectors: of the same joint) is replaced by the moved one.
func (e *Editor) MoveKey(id string, frame int) error {
	return e.edit(func(t *Timeline, _ *Options) error {
		frame = max(0, min(frame, t.TotalFrames()-1))
		if i := slices.IndexFunc(t.RootKeys, func(k RootKey) bool { return k.ID == id }); i >= 0 {
			t.RootKeys[i].Frame = frame
			t.RootKeys = slices.DeleteFunc(t.RootKeys, func(k RootKey) bool { return k.Frame == frame && k.ID != id })
			return nil
		}
		if i := slices.IndexFunc(t.Effectors, func(k Effector) bool { return k.ID == id }); i >= 0 {
			t.Effectors[i].Frame = frame
			joint := t.Effectors[i].Joint
			t.Effectors = slices.DeleteFunc(t.Effectors, func(k Effector) bool {
				return k.Frame == frame && k.Joint == joint && k.ID != id
			})
			return nil
		}
		if i := slices.IndexFunc(t.PoseKeys, func(k PoseKey) bool { return k.ID == id }); i >= 0 {
			t.PoseKeys[i].Frame = frame
			t.PoseKeys = slices.DeleteFunc(t.PoseKeys, func(k PoseKey) bool { return k.Frame == frame && k.ID != id })
			return nil
		}
		return t.wrongKind(id, "a key")
	})
}

func (t *Timeline) rootKey(id string) (*RootKey, error) {
	if i := slices.IndexFunc(t.RootKeys, func(k RootKey) bool { return k.ID == id }); i >= 0 {
		return &t.RootKeys[i], nil
	}
	return nil, t.wrongKind(id, "a root key")
}

func (t *Timeline) effector(id string) (*Effector, error) {
	if i := slices.IndexFunc(t.Effectors, func(k Effector) bool { return k.ID == id }); i >= 0 {
		return &t.Effectors[i], nil
	}
	return nil, t.wrongKind(id, "an effector target")
}

func (t *Timeline) poseKey(id string) (*PoseKey, error) {
	if i := slices.IndexFunc(t.PoseKeys, func(k PoseKey) bool { return k.ID == id }); i >= 0 {
		return &t.PoseKeys[i], nil
	}
	return nil, t.wrongKind(id, "a pose key")
}

// wrongKind is ErrNotFound when nothing has the id, else ErrInvalid.
func (t *Timeline) wrongKind(id, want string) error {
	p := Project{Timeline: *t}
	if k := p.KindOf(id); k != "" {
		return invalid("%s is %s, not %s", id, kindWords[k], want)
	}
	return notFound(id)
}

var kindWords = map[string]string{
	ItemSegment: "a segment", ItemRootKey: "a root key", ItemEffector: "an effector target", ItemPoseKey: "a pose key", ItemTake: "a take",
}

// SetRootKeyPos moves a root key on the floor.
func (e *Editor) SetRootKeyPos(id string, x, z float64) error {
	return e.edit(func(t *Timeline, _ *Options) error {
		k, err := t.rootKey(id)
		if err != nil {
			return err
		}
		if !finite(x, z) {
			return invalid("a root key's position must be finite numbers")
		}
		k.X, k.Z = x, z
		return nil
	})
}

// SetHeading sets a root key's heading (radians about +Y, 0 facing +Z);
// nil frees it.
func (e *Editor) SetHeading(id string, heading *float64) error {
	return e.edit(func(t *Timeline, _ *Options) error {
		k, err := t.rootKey(id)
		if err != nil {
			return err
		}
		h, err := headingCopy(heading)
		if err != nil {
			return err
		}
		k.Heading = h
		return nil
	})
}

// SetEffectorPos moves an effector target.
func (e *Editor) SetEffectorPos(id string, pos Vec3) error {
	return e.edit(func(t *Timeline, _ *Options) error {
		k, err := t.effector(id)
		if err != nil {
			return err
		}
		if !finite(pos[:]...) {
			return invalid("an effector target's position must be finite numbers")
		}
		k.Pos = pos
		return nil
	})
}

// SetPose replaces a pose key's root position and rotations (the map is
// copied).
func (e *Editor) SetPose(id string, root Vec3, rot map[string]Quat) error {
	return e.edit(func(t *Timeline, _ *Options) error {
		k, err := t.poseKey(id)
		if err != nil {
			return err
		}
		if err := checkPose(root, rot); err != nil {
			return err
		}
		k.Root, k.Rotations = root, maps.Clone(rot)
		return nil
	})
}

// DeleteItem deletes a segment (as DeleteSegment) or a constraint. Takes
// go with DeleteTake.
func (e *Editor) DeleteItem(id string) error {
	return e.edit(func(t *Timeline, _ *Options) error {
		n := len(t.RootKeys) + len(t.Effectors) + len(t.PoseKeys)
		t.RootKeys = slices.DeleteFunc(t.RootKeys, func(k RootKey) bool { return k.ID == id })
		t.Effectors = slices.DeleteFunc(t.Effectors, func(k Effector) bool { return k.ID == id })
		t.PoseKeys = slices.DeleteFunc(t.PoseKeys, func(k PoseKey) bool { return k.ID == id })
		if len(t.RootKeys)+len(t.Effectors)+len(t.PoseKeys) < n {
			return nil
		}
		return t.deleteSegment(id)
	})
}

// ClearPath removes the drawn path; the root keys stay.
func (e *Editor) ClearPath() error {
	return e.edit(func(t *Timeline, _ *Options) error {
		t.Path = nil
		return nil
	})
}

// SetOptions sets the generation options.
func (e *Editor) SetOptions(o Options) error {
	return e.edit(func(_ *Timeline, dst *Options) error {
		if err := o.Check(); err != nil {
			return err
		}
		*dst = o
		return nil
	})
}

// Takes.

// AddTake records a generation (NewTake makes one from the request sent)
// and returns its id: t.ID when set and unused, else a new one. A zero
// Created is now (UTC); the request is kept as compact JSON. Not undoable; the
// project becomes dirty.
func (e *Editor) AddTake(t Take) (id string, err error) {
	if len(t.Request) > 0 {
		var buf bytes.Buffer
		if err := json.Compact(&buf, t.Request); err != nil {
			return "", invalid("the take's request is not valid JSON: %v", err)
		}
		t.Request = buf.Bytes()
	}
	if t.ID == "" {
		t.ID = e.newID("t")
	} else if e.p.KindOf(t.ID) != "" {
		return "", invalid("the id %q is taken", t.ID)
	}
	if t.Created.IsZero() {
		t.Created = time.Now().UTC().Round(0) // as a saved file gives it back
	}
	e.p.Takes = append(e.p.Takes, t)
	e.takesDirty = true
	e.changed()
	return t.ID, nil
}

// DeleteTake forgets a take. Not undoable; the project becomes dirty.
func (e *Editor) DeleteTake(id string) error {
	i := slices.IndexFunc(e.p.Takes, func(t Take) bool { return t.ID == id })
	if i < 0 {
		return notFound(id)
	}
	e.p.Takes = slices.Delete(e.p.Takes, i, i+1)
	if len(e.p.Takes) == 0 {
		e.p.Takes = nil
	}
	e.takesDirty = true
	e.changed()
	return nil
}

// FPS limits of SetFPS.
const (
	MinFPS = 1
	MaxFPS = 240
)

// SetFPS changes the timeline's frame rate keeping every segment's and
// key's time: frame numbers are rescaled (rounded, a segment at least one
// frame). It is refused when two keys of a kind would land on one frame.
func (e *Editor) SetFPS(fps float64) error {
	return e.edit(func(t *Timeline, _ *Options) error {
		if !finite(fps) || fps < MinFPS || fps > MaxFPS {
			return invalid("the frame rate must be %d to %d fps, not %g", MinFPS, MaxFPS, fps)
		}
		k := fps / t.FPS
		scale := func(f int) int { return int(math.Round(float64(f) * k)) }
		for i := range t.Segments {
			t.Segments[i].Frames = max(1, scale(t.Segments[i].Frames))
		}
		last := t.TotalFrames() - 1
		t.remap(func(f int) (int, bool) { return min(scale(f), last), true })
		t.FPS = fps
		seen := map[string]bool{}
		for _, rk := range t.RootKeys {
			seen[fmt.Sprint("root", rk.Frame)] = true
		}
		if len(seen) != len(t.RootKeys) {
			return invalid("at %g fps two root keys would share a frame", fps)
		}
		for _, ef := range t.Effectors {
			key := fmt.Sprint(ef.Joint, ef.Frame)
			if seen[key] {
				return invalid("at %g fps two %s targets would share a frame", fps, ef.Joint)
			}
			seen[key] = true
		}
		for _, pk := range t.PoseKeys {
			key := fmt.Sprint("pose", pk.Frame)
			if seen[key] {
				return invalid("at %g fps two pose keys would share a frame", fps)
			}
			seen[key] = true
		}
		return nil
	})
}
