package ui

import (
	"errors"
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/project"
	"github.com/motionstudio/studio/viewer"
	"github.com/motionstudio/studio/viewer/scene"
)

// grabRadius is how close (m, on the floor) a press must be to a root key
// to drag it rather than orbit.
const grabRadius = 0.15

// hookViewport connects the viewport's drawing, dragging and clicks to
// the project.
func (s *Studio) hookViewport() {
	v := s.Viewport
	v.OnPathDrawn = s.pathDrawn
	v.OnGrab = func(p mgl64.Vec3) bool {
		best, id := grabRadius, ""
		for _, k := range s.ed.Project().Timeline.RootKeys {
			if d := math.Hypot(k.X-p[0], k.Z-p[2]); d < best {
				best, id = d, k.ID
			}
		}
		s.grabbed = id
		return id != ""
	}
	v.OnGrabMove = func(p mgl64.Vec3) { s.showConstraintsWith(s.grabbed, p) }
	v.OnGrabEnd = func(p mgl64.Vec3) {
		id := s.grabbed
		s.grabbed = ""
		s.selectItem(id)
		if err := s.ed.SetRootKeyPos(id, p[0], p[2]); err != nil {
			s.report(err)
			s.showConstraints()
		}
	}
}

// showConstraints draws the project's constraints in the viewport.
func (s *Studio) showConstraints() { s.showConstraintsWith("", mgl64.Vec3{}) }

// showConstraintsWith draws them with root key moved shown at p (while it
// is dragged).
func (s *Studio) showConstraintsWith(moved string, p mgl64.Vec3) {
	tl := s.ed.Project().Timeline
	skel := motion.SOMA77()
	var c scene.Constraints
	for _, k := range tl.RootKeys {
		rk := scene.RootKey{Frame: k.Frame, X: k.X, Z: k.Z}
		if k.ID == moved {
			rk.X, rk.Z = p[0], p[2]
		}
		if k.Heading != nil {
			rk.Heading, rk.HasHeading = *k.Heading, true
		}
		c.RootKeys = append(c.RootKeys, rk)
	}
	for _, q := range tl.Path {
		c.Path = append(c.Path, mgl64.Vec3{q[0], 0, q[1]})
	}
	for _, e := range tl.Effectors {
		if j, ok := skel.Index(e.Joint); ok {
			c.Effectors = append(c.Effectors, scene.Effector{Frame: e.Frame, Joint: j, Target: mgl64.Vec3(e.Pos)})
		}
	}
	for _, k := range tl.PoseKeys {
		c.PoseKeys = append(c.PoseKeys, scene.PoseKey{Frame: k.Frame, Pos: poseWorld(skel, k)})
	}
	s.Viewport.SetConstraints(c)
}

// poseWorld is a pose key's world joint positions (joints it does not name
// keep their rest rotation).
func poseWorld(skel *motion.Skeleton, k project.PoseKey) []mgl64.Vec3 {
	m := motion.New(skel, 30, 1)
	m.Root[0] = mgl64.Vec3(k.Root)
	for name, q := range k.Rotations {
		if j, ok := skel.Index(name); ok {
			m.Rot[j] = mgl64.Quat{W: q[3], V: mgl64.Vec3{q[0], q[1], q[2]}}.Normalize()
		}
	}
	return m.WorldPositions()
}

// shownPose is the shown take's chosen sample (the first when all are
// shown) at the playhead: its motion and frame, or false when there is
// no take.
func (s *Studio) shownPose() (*motion.Motion, int, bool) {
	ms := s.chosenMotions()
	if len(ms) == 0 {
		return nil, 0, false
	}
	m := ms[0]
	return m, min(s.Viewport.Player().Index(), m.Frames()-1), true
}

// playhead is the timeline frame under the playhead.
func (s *Studio) playhead() int {
	return min(s.Viewport.Player().Index(), s.ed.Project().TotalFrames()-1)
}

// AddRootKey keys the root at the playhead where the shown take has it
// (the origin without one).
func (s *Studio) AddRootKey() {
	var x, z float64
	if m, t, ok := s.shownPose(); ok {
		x, z = m.Root[t][0], m.Root[t][2]
	}
	id, err := s.ed.AddRootKey(s.playhead(), x, z, nil)
	s.added(id, err)
}

// AddEffector pins joint at the playhead where the shown take has it (in
// front of the chest without one); the inspector and the viewport then
// move it.
func (s *Studio) AddEffector(joint string) {
	pos := project.Vec3{0.3, 1.2, 0.3}
	if m, t, ok := s.shownPose(); ok {
		if j, found := m.Skel.Index(joint); found {
			w := make([]mgl64.Vec3, m.Skel.Len())
			m.Pose(t, w, make([]mgl64.Quat, m.Skel.Len()))
			pos = project.Vec3(w[j])
		}
	}
	id, err := s.ed.AddEffector(s.playhead(), joint, pos)
	s.added(id, err)
}

// AddPoseKey keys the shown take's pose at the playhead.
func (s *Studio) AddPoseKey() {
	root, rot, err := s.shownLocalPose()
	if err != nil {
		s.report(err)
		return
	}
	id, err := s.ed.AddPoseKey(s.playhead(), root, rot)
	s.added(id, err)
}

// repose sets a pose key to the pose shown now.
func (s *Studio) repose(id string) {
	root, rot, err := s.shownLocalPose()
	if err == nil {
		err = s.ed.SetPose(id, root, rot)
	}
	s.report(err)
}

var errNoTake = errors.New("generate a motion first: a pose key takes the pose shown at the playhead")

// shownLocalPose is the shown pose as a pose key stores it.
func (s *Studio) shownLocalPose() (project.Vec3, map[string]project.Quat, error) {
	m, t, ok := s.shownPose()
	if !ok {
		return project.Vec3{}, nil, errNoTake
	}
	rot := make(map[string]project.Quat, m.Skel.Len())
	for j, jt := range m.Skel.Joints {
		q := m.Local(t, j)
		rot[jt.Name] = project.Quat{q.V[0], q.V[1], q.V[2], q.W}
	}
	return project.Vec3(m.Root[t]), rot, nil
}

func (s *Studio) added(id string, err error) {
	if err != nil {
		s.report(err)
		return
	}
	s.Timeline.Select(id)
	s.selectItem(id)
}

// placeEffector makes the next click on the floor move the target there,
// keeping its height.
func (s *Studio) placeEffector(id string) {
	s.status.SetText("Click the floor where the target goes")
	s.Viewport.SetView(scene.Top)
	s.Viewport.OnFloorTap = func(p mgl64.Vec3) {
		s.Viewport.OnFloorTap = nil
		for _, e := range s.ed.Project().Timeline.Effectors {
			if e.ID == id {
				s.report(s.ed.SetEffectorPos(id, project.Vec3{p[0], e.Pos[1], p[2]}))
				return
			}
		}
	}
}

// setDrawing turns root-path drawing on (the orthographic top view, a
// crosshair) or off.
func (s *Studio) setDrawing(on bool) {
	if on {
		s.Viewport.SetView(scene.Top)
		s.Viewport.SetTool(viewer.ToolDrawPath)
		s.status.SetText("Draw the root path on the floor; it spreads over the selected segment (or the whole timeline)")
		return
	}
	s.Viewport.SetTool(viewer.ToolOrbit)
}

// pathDrawn turns a drawn path into root keys over the selected segment's
// frames, or the whole timeline's, by arc length; with headings ticked
// each key faces along the path.
func (s *Studio) pathDrawn(path []mgl64.Vec3) {
	p := s.ed.Project()
	from, to := 0, p.TotalFrames()-1
	for i, seg := range p.Timeline.Segments {
		if seg.ID == s.selected {
			from = p.SegmentStart(i)
			to = from + seg.Frames - 1
		}
	}
	pts := make([]project.Vec2, len(path))
	for i, q := range path {
		pts[i] = project.Vec2{q[0], q[2]}
	}
	s.report(s.ed.SetPath(pts, from, to, s.checks.headings.Checked))
}
