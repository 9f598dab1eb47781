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
func (d *documentPanel) hookViewport() {
	v := d.viewport
	v.OnPathDrawn = d.pathDrawn
	v.OnGrab = func(p mgl64.Vec3) bool {
		best, id := grabRadius, ""
		for _, k := range d.ed.Project().Timeline.RootKeys {
			if dist := math.Hypot(k.X-p[0], k.Z-p[2]); dist < best {
				best, id = dist, k.ID
			}
		}
		d.grabbed = id
		return id != ""
	}
	v.OnGrabMove = func(p mgl64.Vec3) { d.showConstraintsWith(d.grabbed, p) }
	v.OnGrabEnd = func(p mgl64.Vec3) {
		id := d.grabbed
		d.grabbed = ""
		d.selectItem(id)
		if err := d.ed.SetRootKeyPos(id, p[0], p[2]); err != nil {
			d.status.report(err)
			d.showConstraints()
		}
	}
}

// showConstraints draws the project's constraints in the viewport.
func (d *documentPanel) showConstraints() { d.showConstraintsWith("", mgl64.Vec3{}) }

// showConstraintsWith draws them with root key moved shown at p (while it
// is dragged).
func (d *documentPanel) showConstraintsWith(moved string, p mgl64.Vec3) {
	tl := d.ed.Project().Timeline
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
	d.viewport.SetConstraints(c)
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
func (d *documentPanel) shownPose() (*motion.Motion, int, bool) {
	ms := d.gen.chosenMotions()
	if len(ms) == 0 {
		return nil, 0, false
	}
	m := ms[0]
	return m, min(d.viewport.Player().Index(), m.Frames()-1), true
}

// playhead is the timeline frame under the playhead.
func (d *documentPanel) playhead() int {
	return min(d.viewport.Player().Index(), d.ed.Project().TotalFrames()-1)
}

// addRootKey keys the root at the playhead where the shown take has it
// (the origin without one).
func (d *documentPanel) addRootKey() {
	var x, z float64
	if m, t, ok := d.shownPose(); ok {
		x, z = m.Root[t][0], m.Root[t][2]
	}
	id, err := d.ed.AddRootKey(d.playhead(), x, z, nil)
	d.added(id, err)
}

// addEffector pins joint at the playhead where the shown take has it (in
// front of the chest without one); the inspector and the viewport then
// move it.
func (d *documentPanel) addEffector(joint string) {
	pos := project.Vec3{0.3, 1.2, 0.3}
	if m, t, ok := d.shownPose(); ok {
		if j, found := m.Skel.Index(joint); found {
			w := make([]mgl64.Vec3, m.Skel.Len())
			m.Pose(t, w, make([]mgl64.Quat, m.Skel.Len()))
			pos = project.Vec3(w[j])
		}
	}
	id, err := d.ed.AddEffector(d.playhead(), joint, pos)
	d.added(id, err)
}

// addPoseKey keys the shown take's pose at the playhead.
func (d *documentPanel) addPoseKey() {
	root, rot, err := d.shownLocalPose()
	if err != nil {
		d.status.report(err)
		return
	}
	id, err := d.ed.AddPoseKey(d.playhead(), root, rot)
	d.added(id, err)
}

// repose sets a pose key to the pose shown now.
func (d *documentPanel) repose(id string) {
	root, rot, err := d.shownLocalPose()
	if err == nil {
		err = d.ed.SetPose(id, root, rot)
	}
	d.status.report(err)
}

var errNoTake = errors.New("generate a motion first: a pose key takes the pose shown at the playhead")

// shownLocalPose is the shown pose as a pose key stores it.
func (d *documentPanel) shownLocalPose() (project.Vec3, map[string]project.Quat, error) {
	m, t, ok := d.shownPose()
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

func (d *documentPanel) added(id string, err error) {
	if err != nil {
		d.status.report(err)
		return
	}
	d.timeline.Select(id)
	d.selectItem(id)
}

// placeEffector makes the next click on the floor move the target there,
// keeping its height.
func (d *documentPanel) placeEffector(id string) {
	d.status.set("Click the floor where the target goes")
	d.viewport.SetView(scene.Top)
	d.viewport.OnFloorTap = func(p mgl64.Vec3) {
		d.viewport.OnFloorTap = nil
		for _, e := range d.ed.Project().Timeline.Effectors {
			if e.ID == id {
				d.status.report(d.ed.SetEffectorPos(id, project.Vec3{p[0], e.Pos[1], p[2]}))
				return
			}
		}
	}
}

// setDrawing turns root-path drawing on (the orthographic top view, a
// crosshair) or off.
func (d *documentPanel) setDrawing(on bool) {
	if on {
		d.viewport.SetView(scene.Top)
		d.viewport.SetTool(viewer.ToolDrawPath)
		d.status.set("Draw the root path on the floor; it spreads over the selected segment (or the whole timeline)")
		return
	}
	d.viewport.SetTool(viewer.ToolOrbit)
}

// pathDrawn turns a drawn path into root keys over the selected segment's
// frames, or the whole timeline's, by arc length; with headings ticked
// each key faces along the path.
func (d *documentPanel) pathDrawn(path []mgl64.Vec3) {
	p := d.ed.Project()
	from, to := 0, p.TotalFrames()-1
	for i, seg := range p.Timeline.Segments {
		if seg.ID == d.selected {
			from = p.SegmentStart(i)
			to = from + seg.Frames - 1
		}
	}
	pts := make([]project.Vec2, len(path))
	for i, q := range path {
		pts[i] = project.Vec2{q[0], q[2]}
	}
	d.status.report(d.ed.SetPath(pts, from, to, d.headings.Checked))
}
