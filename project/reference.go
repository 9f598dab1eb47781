package project

import (
	"errors"
	"math"
	"path/filepath"
	"slices"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/engine/retarget"
)

// MaxReferenceFrames bounds a reference clip kept in a project: the bundled
// model's max_reference_frames (a minute at 30 fps). A model that takes
// fewer says so when the request is built (Request).
const MaxReferenceFrames = 1800

// Reference is a clip a KindReference segment is generated from (an MMCP
// 1.2 motion_reference): the clip itself, embedded, so that the project
// still generates when the file it came from moves or goes; and where it
// came from, for the user. A Reference is never changed once on the
// timeline (undo states share it): edits replace it.
type Reference struct {
	// Name labels the segment: the file's name, or the take's.
	Name string `json:"name"`
	// Source is the file the clip was read from: relative to the project
	// file when it lies in its folder or below (Save, Load), else absolute.
	Source string `json:"source,omitempty"`
	// Take is the id of the take the clip came from, when it did.
	Take string  `json:"take,omitempty"`
	FPS  float64 `json:"fps"`
	// Skeleton is the clip's own rig (identity rest rotations, metres);
	// nil: the model's (SOMA77), as a take's or a retargeted clip's.
	Skeleton *request.Skeleton `json:"skeleton,omitempty"`
	// Rotations[t][j] is JointNames[j]'s local rotation from rest at clip
	// frame t; RootPositions[t] the root's world position.
	JointNames    []string `json:"joint_names"`
	Rotations     [][]Quat `json:"rotations"`
	RootPositions []Vec3   `json:"root_positions"`
	// Strength is how closely the take follows the clip, 0 to 1
	// (request.Segment.Strength); nil, as in files from before it: the
	// engine's default.
	Strength *float64 `json:"strength,omitempty"`
}

// Frames is the clip's length in its own frames.
func (r *Reference) Frames() int { return len(r.Rotations) }

// FramesAt is how many frames at fps the clip plays for (at least one):
// the length a segment takes to play all of it.
func (r *Reference) FramesAt(fps float64) int {
	n := math.Round(float64(r.Frames()-1) / r.FPS * fps)
	if !(n >= 1) {
		return 1
	}
	return int(min(n, MaxFrames))
}

// NewReference is m as a reference clip named name. A clip on a rig
// retarget knows (CMU, DAZ, iClone, SOMA77 in any units) is mapped onto
// SOMA77 from its own rest pose and units, as `motionstudio convert` does;
// any other rig is kept (the model retargets it by its joints' names),
// scaled to metres with its rest rotations folded into its offsets, as
// MMCP skeletons have them. A clip faster than maxFPS (the timeline's
// rate) is resampled to it, one of a single frame holds it for two, and
// numbers are kept to 6 decimals: the file stays small. A clip longer than
// MaxReferenceFrames, or that is not a clip, is refused (ErrInvalid).
func NewReference(m *motion.Motion, name string, maxFPS float64) (*Reference, error) {
	if m == nil {
		return nil, invalid("%s holds no motion clip", name)
	}
	if err := m.Validate(); err != nil {
		return nil, invalid("clip %s: %v", name, err)
	}
	soma := motion.SOMA77()
	onSOMA := slices.Equal(m.Skel.Names(), soma.Names())
	switch out, _, err := retarget.ToSOMA(m); {
	case onSOMA:
	case err == nil:
		m, onSOMA = out, true
	case errors.Is(err, retarget.ErrUnknownRig):
		if m, err = ownRig(m); err != nil {
			return nil, invalid("clip %s: %v", name, err)
		}
	default:
		return nil, invalid("clip %s: %v", name, err)
	}
	if maxFPS > 0 && m.FPS > maxFPS {
		r, err := m.Resample(maxFPS)
		if err != nil {
			return nil, invalid("clip %s: %v", name, err)
		}
		m = r
	}
	if n := m.Frames(); n > MaxReferenceFrames {
		return nil, invalid("clip %s is %d frames at %g fps (%.1f s); a reference clip is at most %d frames: trim it",
			name, n, m.FPS, float64(n-1)/m.FPS, MaxReferenceFrames)
	}
	r := &Reference{Name: name, FPS: m.FPS, JointNames: m.Skel.Names()}
	if !onSOMA {
		r.Skeleton = rigOf(m.Skel)
	}
	J := m.Skel.Len()
	for t := range max(m.Frames(), 2) {
		f := min(t, m.Frames()-1)
		row := make([]Quat, J)
		for j, q := range m.Rot[f*J : (f+1)*J] {
			row[j] = Quat{round6(q.V[0]), round6(q.V[1]), round6(q.V[2]), round6(q.W)}
		}
		p := m.Root[f]
		r.Rotations = append(r.Rotations, row)
		r.RootPositions = append(r.RootPositions, Vec3{round6(p[0]), round6(p[1]), round6(p[2])})
	}
	if err := r.check(); err != nil {
		return nil, invalid("clip %s: %v", name, err)
	}
	return r, nil
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// ownRig is m in metres on its own skeleton with identity rest rotations:
// each joint's rest rotation W (in the world) is folded into its offset
// (W_parent·offset) and its local rotations (W_parent·q·W⁻¹), which keeps
// every joint's world position at every frame.
func ownRig(m *motion.Motion) (*motion.Motion, error) {
	k, _, _ := retarget.ScaleOf(m.Skel, retarget.Rig{})
	m, err := m.Scale(k)
	if err != nil {
		return nil, err
	}
	_, world := m.Skel.RestWorld()
	parentW := func(j int) mgl64.Quat {
		if p := m.Skel.Joints[j].Parent; p >= 0 {
			return world[p]
		}
		return mgl64.QuatIdent()
	}
	js := slices.Clone(m.Skel.Joints)
	for j := range js {
		js[j].Offset = parentW(j).Rotate(js[j].Offset)
		js[j].EndOffset = world[j].Rotate(js[j].EndOffset)
		js[j].Rest = mgl64.QuatIdent()
	}
	skel, err := motion.NewSkeleton(js)
	if err != nil {
		return nil, err
	}
	out := motion.New(skel, m.FPS, m.Frames())
	copy(out.Root, m.Root)
	J := skel.Len()
	for t := range m.Frames() {
		for j := range J {
			out.Rot[t*J+j] = parentW(j).Mul(m.Rot[t*J+j]).Mul(world[j].Inverse()).Normalize()
		}
	}
	return out, nil
}

// rigOf is s as MMCP states a skeleton, its rest translations rounded as
// the clip's values are.
func rigOf(s *motion.Skeleton) *request.Skeleton {
	rig := request.SkeletonOf(s)
	for i, j := range rig.Joints {
		rig.Joints[i].RestTranslation = request.Vec3{round6(j.RestTranslation[0]), round6(j.RestTranslation[1]), round6(j.RestTranslation[2])}
	}
	return &rig
}

// check holds a reference to what a motion_reference segment needs: a
// positive rate, 2 to MaxReferenceFrames frames of one finite, non-zero
// rotation per named joint and a finite root position, unique joint names
// on its skeleton (with its root), a skeleton of one root whose parents
// come first.
func (r *Reference) check() error {
	n := r.Frames()
	switch {
	case !finite(r.FPS) || r.FPS <= 0:
		return invalid("the clip's frame rate must be a positive number, not %v", r.FPS)
	case n < 2 || n > MaxReferenceFrames:
		return invalid("the clip has %d frames; a reference clip has 2 to %d", n, MaxReferenceFrames)
	case len(r.RootPositions) != n:
		return invalid("the clip has %d frames of rotations but %d root positions", n, len(r.RootPositions))
	case len(r.JointNames) == 0:
		return invalid("the clip names no joints")
	case r.Strength != nil && !(*r.Strength >= 0 && *r.Strength <= 1):
		return invalid("the clip's strength must be from 0 to 1, not %v", *r.Strength)
	}
	seen := make(map[string]bool, len(r.JointNames))
	for _, name := range r.JointNames {
		if name == "" || seen[name] {
			return invalid("the clip's joint names must be unique and not empty (%q)", name)
		}
		seen[name] = true
	}
	for t, row := range r.Rotations {
		if len(row) != len(r.JointNames) {
			return invalid("clip frame %d has %d rotations for %d joints", t, len(row), len(r.JointNames))
		}
		for j, q := range row {
			if !finite(q[:]...) || q[0]*q[0]+q[1]*q[1]+q[2]*q[2]+q[3]*q[3] < 1e-12 {
				return invalid("clip frame %d, joint %s: the rotation must be a finite, non-zero quaternion", t, r.JointNames[j])
			}
		}
		if p := r.RootPositions[t]; !finite(p[:]...) {
			return invalid("clip frame %d: the root position must be finite numbers", t)
		}
	}
	if r.Skeleton == nil {
		return nil // the model's: Request checks the names against it
	}
	return r.checkSkeleton()
}

func (r *Reference) checkSkeleton() error {
	js := r.Skeleton.Joints
	if len(js) == 0 {
		return invalid("the clip's skeleton has no joints")
	}
	index := make(map[string]bool, len(js))
	root := ""
	for i, j := range js {
		switch {
		case j.Name == "" || index[j.Name]:
			return invalid("the clip's skeleton: joint %d's name %q is empty or used twice", i+1, j.Name)
		case j.Parent == nil && root != "":
			return invalid("the clip's skeleton has two roots, %s and %s", root, j.Name)
		case j.Parent == nil:
			root = j.Name
		case !index[*j.Parent]:
			return invalid("the clip's skeleton: joint %s comes before its parent %q", j.Name, *j.Parent)
		}
		if !finite(j.RestTranslation[:]...) || !finite(j.RestRotation[:]...) {
			return invalid("the clip's skeleton: joint %s's rest must be finite numbers", j.Name)
		}
		index[j.Name] = true
	}
	for _, name := range r.JointNames {
		if !index[name] {
			return invalid("the clip's joint %s is not on its skeleton", name)
		}
	}
	if !slices.Contains(r.JointNames, root) {
		return invalid("the clip must move its skeleton's root, %s", root)
	}
	return nil
}

// segment is the clip as an MMCP motion_reference segment frames long.
func (r *Reference) segment(frames int) request.Segment {
	s := request.Segment{Type: KindReference, DurationFrames: frames, FPS: r.FPS,
		JointNames: slices.Clone(r.JointNames), Rotations: make([][]request.Quat, len(r.Rotations)),
		RootPositions: make([]request.Vec3, len(r.RootPositions))}
	if r.Strength != nil {
		v := *r.Strength
		s.Strength = &v
	}
	if r.Skeleton != nil {
		sk := *r.Skeleton
		sk.Joints = slices.Clone(sk.Joints)
		s.Skeleton = &sk
	}
	for t, row := range r.Rotations {
		s.Rotations[t] = make([]request.Quat, len(row))
		for j, q := range row {
			s.Rotations[t][j] = request.Quat(q)
		}
		s.RootPositions[t] = request.Vec3(r.RootPositions[t])
	}
	return s
}

// withSource is r with Source rewritten by f (r itself when nothing
// changes): Save and Load make it relative to the project file and back.
func (r *Reference) withSource(f func(string) string) *Reference {
	if r == nil || r.Source == "" {
		return r
	}
	s := f(r.Source)
	if s == r.Source {
		return r
	}
	c := *r
	c.Source = s
	return &c
}

// relativeTo is path relative to dir when it lies in dir or below, else
// path.
func relativeTo(dir string) func(string) string {
	return func(path string) string {
		if !filepath.IsAbs(path) {
			return path
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || !filepath.IsLocal(rel) {
			return path
		}
		return filepath.ToSlash(rel)
	}
}

// absoluteIn is a relative path as it lies from dir.
func absoluteIn(dir string) func(string) string {
	return func(path string) string {
		if filepath.IsAbs(path) {
			return path
		}
		return filepath.Join(dir, filepath.FromSlash(path))
	}
}

// SetReferenceStrength sets how closely reference segment id's take
// follows its clip, 0 to 1 (the clip is replaced, never changed: undo
// states share it).
func (e *Editor) SetReferenceStrength(id string, v float64) error {
	if !(v >= 0 && v <= 1) {
		return invalid("a reference's strength runs from 0 to 1, not %v", v)
	}
	return e.edit(func(t *Timeline, _ *Options) error {
		i, _, err := t.segment(id)
		if err != nil {
			return err
		}
		if t.Segments[i].Ref == nil {
			return invalid("segment %s has no reference clip to follow", id)
		}
		c := *t.Segments[i].Ref
		c.Strength = &v
		t.Segments[i].Ref = &c
		return nil
	})
}

// InsertIndex is where a segment dropped at a frame goes: before the
// segment under it when the frame is in its first half, after it when in
// its second, at the end past the timeline.
func (p *Project) InsertIndex(frame int) int {
	i, start, ok := p.Timeline.segmentAt(max(frame, 0))
	if !ok {
		return len(p.Timeline.Segments)
	}
	if 2*(frame-start) >= p.Timeline.Segments[i].Frames {
		return i + 1
	}
	return i
}

// AddReference inserts a reference segment playing ref before the segment
// at index at (len(Segments) appends it), frames long (0: as long as the
// clip plays at the timeline's rate), and returns its id; constraints from
// its first frame on move later, as with AddSegment.
func (e *Editor) AddReference(at int, ref *Reference, frames int) (id string, err error) {
	if ref == nil {
		return "", invalid("a reference segment needs a clip")
	}
	if err := ref.check(); err != nil {
		return "", err
	}
	if frames == 0 {
		frames = ref.FramesAt(e.p.Timeline.FPS)
	}
	err = e.edit(func(t *Timeline, _ *Options) error {
		id, err = e.insertSegment(t, at, Segment{Kind: KindReference, Frames: frames, Ref: ref})
		return err
	})
	if err != nil {
		return "", err
	}
	return id, nil
}
