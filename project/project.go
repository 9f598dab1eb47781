// Package project is the studio's document: the timeline of prompts and
// constraints plus the generation options, edited through an Editor (every
// edit undoable), saved as a versioned JSON project file (Save, Load,
// Autosave, Recover) and turned into an MMCP request for the engine
// (Project.Request).
//
// Frames are global timeline frames at Timeline.FPS; positions are metres,
// right-handed, +Y up; quaternions are [x, y, z, w]; headings are radians
// about +Y with 0 facing +Z and +π/2 facing +X (MMCP's convention).
//
// A constraint belongs to the frames it sits on: when segments grow,
// shrink, move or go, the constraints after the change move with the
// frames that follow it, those inside a segment travel with the segment,
// and those on frames that no longer exist are removed.
package project

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/request"
)

// Version is the project file format's version. Load refuses newer ones;
// there is no older one to migrate yet.
const Version = 1

// Ext is a project file's extension.
const Ext = ".msproj"

// Segment kinds.
const (
	KindText          = request.SegmentText
	KindUnconditioned = request.SegmentUnconditioned
	// KindReference is generated from a clip (MMCP 1.2 motion_reference).
	KindReference = request.SegmentMotionReference
)

// Item kinds, as KindOf names them.
const (
	ItemSegment  = "segment"
	ItemRootKey  = "root_key"
	ItemEffector = "effector"
	ItemPoseKey  = "pose_key"
	ItemTake     = "take"
)

// Defaults of a new project.
const (
	DefaultFPS    = 30
	DefaultPrompt = "a person walks forward"
	DefaultFrames = 120
)

// MaxFrames bounds a timeline, far beyond any model's take, so that frame
// arithmetic stays small; the model's own limit is MMCP's to enforce
// (Request).
const MaxFrames = 100_000

// ErrNotFound is wrapped by every error about an id that names nothing.
var ErrNotFound = errors.New("not found")

// ErrInvalid is wrapped by every refused edit and every bad project file.
var ErrInvalid = errors.New("invalid")

// ErrNewerVersion is wrapped when a project file comes from a newer studio.
var ErrNewerVersion = errors.New("project file from a newer version")

// userError is a message for the user that errors.Is matches against its
// kind (ErrNotFound, ErrInvalid, ErrNewerVersion).
type userError struct {
	kind error
	msg  string
}

func (e *userError) Error() string { return e.msg }
func (e *userError) Unwrap() error { return e.kind }

func invalid(format string, args ...any) error {
	return &userError{ErrInvalid, fmt.Sprintf(format, args...)}
}

func notFound(id string) error {
	return &userError{ErrNotFound, fmt.Sprintf("nothing on the timeline has the id %q (it may have been deleted)", id)}
}

// Vec2 is [x, z] on the floor.
type Vec2 [2]float64

// Vec3 is [x, y, z] in metres.
type Vec3 [3]float64

// Quat is a rotation as [x, y, z, w].
type Quat [4]float64

// Project is the document.
type Project struct {
	Version  int      `json:"version"`
	Timeline Timeline `json:"timeline"`
	Options  Options  `json:"options"`
	// Takes are the generations made from it, newest last. They are
	// history, outside undo (Editor.AddTake).
	Takes []Take `json:"takes,omitempty"`
}

// Timeline is the segments, end to end from frame 0, and the constraints
// on their frames. The Editor keeps each constraint list sorted by frame
// (effectors by frame, then joint); root keys never share a frame, pose
// keys never share a frame, and one joint's effector targets never share
// a frame.
type Timeline struct {
	FPS       float64    `json:"fps"`
	Segments  []Segment  `json:"segments"`
	RootKeys  []RootKey  `json:"root_keys,omitempty"`
	Effectors []Effector `json:"effectors,omitempty"`
	PoseKeys  []PoseKey  `json:"pose_keys,omitempty"`
	// Path is the root path as drawn, shown on the floor; the root keys
	// are what the request sends.
	Path []Vec2 `json:"path,omitempty"`
}

// Segment is one span of the timeline.
type Segment struct {
	ID   string `json:"id"`
	Kind string `json:"kind"` // KindText, KindUnconditioned or KindReference
	// Prompt is kept when the segment is unconditioned (and not sent), so
	// that switching back to text restores it.
	Prompt string `json:"prompt"`
	// Frames is the segment's length on the timeline; a reference clip
	// plays at its own speed, cut to it or holding its last frame.
	Frames int `json:"frames"`
	// Ref is a KindReference segment's clip (and only theirs).
	Ref *Reference `json:"reference,omitempty"`
}

// RootKey pins the root on the floor at a frame.
type RootKey struct {
	ID    string  `json:"id"`
	Frame int     `json:"frame"`
	X     float64 `json:"x"`
	Z     float64 `json:"z"`
	// Heading is radians about +Y, 0 facing +Z; nil leaves it free.
	Heading *float64 `json:"heading,omitempty"`
}

// Effector pins a joint's world position at a frame.
type Effector struct {
	ID    string `json:"id"`
	Frame int    `json:"frame"`
	Joint string `json:"joint"` // a skeleton joint's name, e.g. LeftHand
	Pos   Vec3   `json:"pos"`
}

// PoseKey pins a pose at a frame: the root's world position and the local
// rotations (from rest) of the joints it names; the others are free.
type PoseKey struct {
	ID        string          `json:"id"`
	Frame     int             `json:"frame"`
	Root      Vec3            `json:"root"`
	Rotations map[string]Quat `json:"rotations"`
}

// Options tune generation.
type Options struct {
	Steps int   `json:"steps"` // diffusion steps; 0: the model's default
	Seed  int64 `json:"seed"`
	// RandomSeed draws a new seed for each generation (NextSeed).
	RandomSeed bool `json:"random_seed"`
	Samples    int  `json:"samples"`
	// Guidance is "" (the model's default), nocfg, regular or separated;
	// regular sends TextWeight, separated both weights.
	Guidance         string  `json:"guidance,omitempty"`
	TextWeight       float64 `json:"text_weight"`
	ConstraintWeight float64 `json:"constraint_weight"`
	TransitionFrames int     `json:"transition_frames"`
	PostProcessing   bool    `json:"post_processing"`
	// Loop makes the take a cycle (MMCP options.loop); it needs a timeline
	// of one segment.
	Loop bool `json:"loop,omitempty"`
	// Character is the rig the take is shown on and exported to: "" for
	// SOMA77, a preset (mixamo, ue-mannequin, rigify) or a BVH, FBX or
	// glTF file whose skeleton is the rig (saved relative to the project
	// file when it lies beside it or below). Its joints are recognised by
	// name unless CharacterNames, the user's name map (rig joint → SOMA77
	// joint), or CharacterMap, a name map file, says otherwise. Not sent
	// to the model: the studio retargets what comes back.
	Character    string `json:"character,omitempty"`
	CharacterMap string `json:"character_map,omitempty"`
	// CharacterNames is replaced whole, never changed in place: undo
	// steps share it.
	CharacterNames map[string]string `json:"character_names,omitempty"`
}

// Take is one generation made from the project.
type Take struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	Summary string    `json:"summary"` // the prompts, shortened
	Seed    int64     `json:"seed"`
	Model   string    `json:"model"`
	// Request is the exact MMCP request sent, as compact JSON (what
	// json.Marshal wrote): decoding it gives the same request, so the take
	// can be generated again.
	Request json.RawMessage `json:"request,omitempty"`
	// ReferenceStrengths are the request's motion_reference strengths in
	// order (request.Segment.Strength, which the JSON does not carry),
	// when any was set; nil: the engine's default for each.
	ReferenceStrengths []*float64 `json:"reference_strengths,omitempty"`
}

// DefaultOptions are a new project's options. The weights are the usual
// ones, sent only once a guidance type is chosen.
func DefaultOptions() Options {
	return Options{Samples: 1, RandomSeed: true, PostProcessing: true,
		TransitionFrames: request.DefaultTransitionFrames, TextWeight: 2, ConstraintWeight: 2}
}

// New is a new project: one text segment of 120 frames at 30 fps.
func New() *Project {
	return &Project{
		Version: Version,
		Timeline: Timeline{FPS: DefaultFPS,
			Segments: []Segment{{ID: "s1", Kind: KindText, Prompt: DefaultPrompt, Frames: DefaultFrames}}},
		Options: DefaultOptions(),
	}
}

// TotalFrames is the timeline's length: its segments' frames added up.
func (p *Project) TotalFrames() int { return p.Timeline.TotalFrames() }

// TotalFrames is the segments' frames added up.
func (t *Timeline) TotalFrames() int {
	n := 0
	for _, s := range t.Segments {
		n += s.Frames
	}
	return n
}

// SegmentAt finds the segment under a global frame: its index and first
// frame; ok is false outside [0, TotalFrames).
func (p *Project) SegmentAt(frame int) (index int, start int, ok bool) {
	return p.Timeline.segmentAt(frame)
}

func (t *Timeline) segmentAt(frame int) (int, int, bool) {
	if frame < 0 {
		return 0, 0, false
	}
	start := 0
	for i, s := range t.Segments {
		if frame < start+s.Frames {
			return i, start, true
		}
		start += s.Frames
	}
	return 0, 0, false
}

// SegmentStart is the first frame of segment i.
func (p *Project) SegmentStart(i int) int {
	start := 0
	for _, s := range p.Timeline.Segments[:i] {
		start += s.Frames
	}
	return start
}

// KindOf says what an id names: ItemSegment, ItemRootKey, ItemEffector,
// ItemPoseKey, ItemTake, or "" for nothing.
func (p *Project) KindOf(id string) string {
	t := &p.Timeline
	switch {
	case id == "":
		return ""
	case slices.ContainsFunc(t.Segments, func(s Segment) bool { return s.ID == id }):
		return ItemSegment
	case slices.ContainsFunc(t.RootKeys, func(k RootKey) bool { return k.ID == id }):
		return ItemRootKey
	case slices.ContainsFunc(t.Effectors, func(k Effector) bool { return k.ID == id }):
		return ItemEffector
	case slices.ContainsFunc(t.PoseKeys, func(k PoseKey) bool { return k.ID == id }):
		return ItemPoseKey
	case slices.ContainsFunc(p.Takes, func(k Take) bool { return k.ID == id }):
		return ItemTake
	}
	return ""
}

// NextSeed is the seed for the next generation: a new random one when
// Options.RandomSeed, else Options.Seed. Random seeds are non-negative, as
// the engine draws its own.
func (p *Project) NextSeed() int64 {
	if p.Options.RandomSeed {
		return rand.Int64()
	}
	return p.Options.Seed
}

// Clone is a deep copy.
func (p *Project) Clone() *Project {
	c := *p
	c.Timeline = p.Timeline.clone()
	c.Takes = slices.Clone(p.Takes)
	for i := range c.Takes {
		c.Takes[i].Request = slices.Clone(c.Takes[i].Request)
	}
	return &c
}

func (t Timeline) clone() Timeline {
	c := t
	c.Segments = slices.Clone(t.Segments)
	c.RootKeys = slices.Clone(t.RootKeys)
	for i, k := range c.RootKeys {
		if k.Heading != nil {
			h := *k.Heading
			c.RootKeys[i].Heading = &h
		}
	}
	c.Effectors = slices.Clone(t.Effectors)
	c.PoseKeys = slices.Clone(t.PoseKeys)
	for i, k := range c.PoseKeys {
		c.PoseKeys[i].Rotations = maps.Clone(k.Rotations)
	}
	c.Path = slices.Clone(t.Path)
	return c
}

// sort puts each constraint list in the Timeline's order.
func (t *Timeline) sort() {
	slices.SortStableFunc(t.RootKeys, func(a, b RootKey) int { return a.Frame - b.Frame })
	slices.SortStableFunc(t.Effectors, func(a, b Effector) int {
		if a.Frame != b.Frame {
			return a.Frame - b.Frame
		}
		return strings.Compare(a.Joint, b.Joint)
	})
	slices.SortStableFunc(t.PoseKeys, func(a, b PoseKey) int { return a.Frame - b.Frame })
}

// ids lists every id in the project.
func (p *Project) ids() []string {
	var ids []string
	t := &p.Timeline
	for _, s := range t.Segments {
		ids = append(ids, s.ID)
	}
	for _, k := range t.RootKeys {
		ids = append(ids, k.ID)
	}
	for _, k := range t.Effectors {
		ids = append(ids, k.ID)
	}
	for _, k := range t.PoseKeys {
		ids = append(ids, k.ID)
	}
	for _, k := range p.Takes {
		ids = append(ids, k.ID)
	}
	return ids
}

// idCounter is one past the largest number ending any id ("s12" → 13), so
// that new ids follow the project's own.
func (p *Project) idCounter() int {
	n := 0
	for _, id := range p.ids() {
		i := len(id)
		for i > 0 && id[i-1] >= '0' && id[i-1] <= '9' {
			i--
		}
		if v, err := strconv.Atoi(id[i:]); err == nil && v < math.MaxInt32 {
			n = max(n, v)
		}
	}
	return n + 1
}

// fillIDs gives every item without an id one (a project written by hand).
func (p *Project) fillIDs() {
	next := p.idCounter()
	id := func(prefix string, dst *string) {
		if *dst == "" {
			*dst = prefix + strconv.Itoa(next)
			next++
		}
	}
	t := &p.Timeline
	for i := range t.Segments {
		id("s", &t.Segments[i].ID)
	}
	for i := range t.RootKeys {
		id("k", &t.RootKeys[i].ID)
	}
	for i := range t.Effectors {
		id("e", &t.Effectors[i].ID)
	}
	for i := range t.PoseKeys {
		id("p", &t.PoseKeys[i].ID)
	}
	for i := range p.Takes {
		id("t", &p.Takes[i].ID)
	}
}

func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// checkKind accepts the kinds a segment can be made or switched to: a
// reference segment is made from its clip (Editor.AddReference) and stays
// one.
func checkKind(kind string) error {
	switch kind {
	case KindText, KindUnconditioned:
		return nil
	case KindReference:
		return invalid("a reference segment is made from a clip (drop one on the prompt track), not switched to")
	}
	return invalid("segment kind %q is not one of %q, %q and %q", kind, KindText, KindUnconditioned, KindReference)
}

// checkSegment holds a segment to its kind: a reference segment has a
// valid clip, the others none.
func checkSegment(s Segment) error {
	switch {
	case s.Kind == KindReference && s.Ref == nil:
		return invalid("a reference segment has no clip")
	case s.Kind == KindReference:
		return s.Ref.check()
	case s.Ref != nil:
		return invalid("a %s segment has a reference clip; only %s segments do", s.Kind, KindReference)
	}
	return checkKind(s.Kind)
}

// Validate checks everything Load and Save hold a project to: the version,
// a positive frame rate, at least one segment, each of a known kind and at
// least a frame long, constraints on the timeline and not sharing frames,
// unique ids, finite numbers, valid options. The error names the item.
func (p *Project) Validate() error {
	switch {
	case p.Version > Version:
		return &userError{ErrNewerVersion, fmt.Sprintf(
			"the project file has format version %d, newer than this studio reads (%d): open it with a newer Motion Studio", p.Version, Version)}
	case p.Version < 1:
		return invalid("the project file has no format version (want %d): it is not a Motion Studio project", Version)
	}
	return p.validateContent()
}

// validateContent is Validate less the version.
func (p *Project) validateContent() error {
	t := &p.Timeline
	if !finite(t.FPS) || t.FPS <= 0 {
		return invalid("the timeline's frame rate must be a positive number of frames per second, not %v", t.FPS)
	}
	if len(t.Segments) == 0 {
		return invalid("the timeline has no segments: it needs at least one")
	}
	total := 0
	for i, s := range t.Segments {
		what := fmt.Sprintf("segment %d (%s)", i+1, s.ID)
		if err := checkSegment(s); err != nil {
			return invalid("%s: %v", what, err)
		}
		if s.Frames < 1 || s.Frames > MaxFrames {
			return invalid("%s: a segment is 1 to %d frames long, not %d", what, MaxFrames, s.Frames)
		}
		total += s.Frames
	}
	if total > MaxFrames {
		return invalid("the timeline is %d frames long; the most is %d", total, MaxFrames)
	}
	frame := func(what string, f int) error {
		if f < 0 || f >= total {
			return invalid("%s: frame %d is outside the timeline (frames 0 to %d)", what, f, total-1)
		}
		return nil
	}
	rootAt := map[int]string{}
	for _, k := range t.RootKeys {
		what := "root key " + k.ID
		if err := frame(what, k.Frame); err != nil {
			return err
		}
		if other, ok := rootAt[k.Frame]; ok {
			return invalid("%s: root key %s is on the same frame (%d)", what, other, k.Frame)
		}
		rootAt[k.Frame] = k.ID
		if !finite(k.X, k.Z) || k.Heading != nil && !finite(*k.Heading) {
			return invalid("%s: its position and heading must be finite numbers", what)
		}
	}
	type jointFrame struct {
		joint string
		frame int
	}
	effAt := map[jointFrame]string{}
	for _, k := range t.Effectors {
		what := "effector " + k.ID
		if err := frame(what, k.Frame); err != nil {
			return err
		}
		if k.Joint == "" {
			return invalid("%s: it names no joint", what)
		}
		if other, ok := effAt[jointFrame{k.Joint, k.Frame}]; ok {
			return invalid("%s: effector %s pins %s on the same frame (%d)", what, other, k.Joint, k.Frame)
		}
		effAt[jointFrame{k.Joint, k.Frame}] = k.ID
		if !finite(k.Pos[:]...) {
			return invalid("%s: its position must be finite numbers", what)
		}
	}
	poseAt := map[int]string{}
	for _, k := range t.PoseKeys {
		what := "pose key " + k.ID
		if err := frame(what, k.Frame); err != nil {
			return err
		}
		if other, ok := poseAt[k.Frame]; ok {
			return invalid("%s: pose key %s is on the same frame (%d)", what, other, k.Frame)
		}
		poseAt[k.Frame] = k.ID
		if err := checkPose(k.Root, k.Rotations); err != nil {
			return invalid("%s: %v", what, err)
		}
	}
	for i, v := range t.Path {
		if !finite(v[:]...) {
			return invalid("the drawn path's point %d must be finite numbers", i+1)
		}
	}
	if err := p.Options.Check(); err != nil {
		return err
	}
	for _, k := range p.Takes {
		if len(k.Request) > 0 && !json.Valid(k.Request) {
			return invalid("take %s: its request is not valid JSON", k.ID)
		}
	}
	seen := map[string]bool{}
	for _, id := range p.ids() {
		switch {
		case id == "":
			return invalid("an item has no id")
		case seen[id]:
			return invalid("two items share the id %q", id)
		}
		seen[id] = true
	}
	return nil
}

func checkPose(root Vec3, rot map[string]Quat) error {
	if !finite(root[:]...) {
		return invalid("the root position must be finite numbers")
	}
	if len(rot) == 0 {
		return invalid("a pose key needs the rotation of at least one joint")
	}
	for _, name := range slices.Sorted(maps.Keys(rot)) {
		q := rot[name]
		if name == "" {
			return invalid("a joint rotation names no joint")
		}
		if !finite(q[:]...) || q[0]*q[0]+q[1]*q[1]+q[2]*q[2]+q[3]*q[3] < 1e-12 {
			return invalid("joint %s: the rotation must be a finite, non-zero quaternion [x, y, z, w]", name)
		}
	}
	return nil
}

// Check holds options to what MMCP accepts.
func (o Options) Check() error {
	switch {
	case o.Steps < 0 || o.Steps > request.MaxDiffusionSteps:
		return invalid("diffusion steps must be 1 to %d, or 0 for the model's default; not %d", request.MaxDiffusionSteps, o.Steps)
	case o.Samples < 1 || o.Samples > request.MaxNumSamples:
		return invalid("samples must be 1 to %d, not %d", request.MaxNumSamples, o.Samples)
	case o.TransitionFrames < 0 || o.TransitionFrames > request.MaxTransitionFrames:
		return invalid("transition frames must be 0 to %d, not %d", request.MaxTransitionFrames, o.TransitionFrames)
	case o.Guidance != "" && o.Guidance != request.GuidanceNoCFG && o.Guidance != request.GuidanceRegular && o.Guidance != request.GuidanceSeparated:
		return invalid("guidance %q is not one of the model's default (\"\"), %s, %s and %s", o.Guidance,
			request.GuidanceNoCFG, request.GuidanceRegular, request.GuidanceSeparated)
	case !finite(o.TextWeight, o.ConstraintWeight) || o.TextWeight < 0 || o.ConstraintWeight < 0:
		return invalid("guidance weights must be finite and not negative")
	case o.Character == "" && (o.CharacterMap != "" || len(o.CharacterNames) > 0):
		return invalid("a name map needs a character to map onto")
	case o.CharacterMap != "" && len(o.CharacterNames) > 0:
		return invalid("the character has a name map file (%s) and a name map of its own; keep one", o.CharacterMap)
	}
	return checkNames(o.CharacterNames)
}

// checkNames holds a character's name map to SOMA77's joints (whether it
// fits the rig is known only once the rig is read).
func checkNames(m map[string]string) error {
	soma := motion.SOMA77()
	keys := slices.Sorted(maps.Keys(m))
	for _, k := range keys {
		if k == "" {
			return invalid("the character's name map has a joint without a name")
		}
		if _, ok := soma.Index(m[k]); !ok {
			return invalid("the character's name map takes %q to %q, which is not a SOMA77 joint", k, m[k])
		}
	}
	return nil
}

// Equal says whether o and p are the same options (an empty name map is
// none).
func (o Options) Equal(p Options) bool {
	if len(o.CharacterNames) == 0 && len(p.CharacterNames) == 0 {
		o.CharacterNames, p.CharacterNames = nil, nil
	}
	return reflect.DeepEqual(o, p)
}

// IsRigFile says whether a Character names a file (it has an extension)
// rather than a preset.
func IsRigFile(character string) bool { return filepath.Ext(character) != "" }
