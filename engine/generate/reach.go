package generate

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/post"
)

// reach turns effector targets into known features while a window is
// sampled. A request says only where a hand or foot must be; the model
// states a joint relative to the smooth root and was trained with the root
// given alongside, and its rotations need not agree with a position channel
// (the body is driven by the rotations). Pinning the root under the target
// asks for a hand inside the hips. So after every step the target frame of
// the current clean prediction is decoded, moved so the joint is over the
// target (unless another constraint fixes the root there), its limb bent by
// two-bone IK onto the target, and that frame's root, heading and the
// rotations and positions of the joint and its ancestors become the known
// values of the next step: the denoiser returns known entries as given and
// makes the rest of the motion agree with them. The pose stays the model's
// own (the first step runs without the target; each later one starts from
// its prediction), so path and pose converge together over the steps.
type reach struct {
	lay                     *model.Layout
	D, oRoot, oHead, oLocal int
	oRot                    int
	targets                 []reachTarget
	stated                  map[int]rootStated // what other constraints fix at a target's frame
}

// rootStated says which root channels of a frame another constraint fixes.
type rootStated struct{ XZ, Y, Heading bool }

type reachTarget struct {
	Frame int        // window frame
	Joint int        // skeleton index
	Limb  *post.Limb // the two bones that bend to reach
	Chain []int      // predicted-joint indices of the joint and its ancestors
	Pos   mgl64.Vec3 // world target
}

// newReach prepares the targets of window w; mask is a sample's known-value
// mask before sampling (the root keys are the same for every sample).
func newReach(lay *model.Layout, effs []effector, w window, mask []float32) (*reach, error) {
	r := &reach{lay: lay, D: lay.Dim(), stated: map[int]rootStated{}}
	off := lay.Offsets()
	r.oRoot, r.oHead, r.oLocal, r.oRot = off.RootPos.Off, off.Heading.Off, off.LocalJoints.Off, off.Rotations.Off
	skel := lay.Skeleton()
	for _, e := range effs {
		limb, err := post.FindLimb(skel, e.Joint)
		if err != nil {
			return nil, err
		}
		j, _ := skel.Index(e.Joint)
		t := reachTarget{Frame: e.Frame - w.Start, Joint: j, Limb: limb, Pos: e.Pos}
		for a := j; a >= 0; a = skel.Joints[a].Parent {
			if i, ok := lay.JointIndex(skel.Joints[a].Name); ok {
				t.Chain = append(t.Chain, i)
			}
		}
		r.targets = append(r.targets, t)
		if mask != nil {
			f := t.Frame * r.D
			r.stated[t.Frame] = rootStated{XZ: mask[f+r.oRoot] == 1, Y: mask[f+r.oRoot+1] == 1, Heading: mask[f+r.oHead] == 1}
		}
	}
	return r, nil
}

// follow rewrites one sample's known values from its current clean
// prediction x0; pl is where the window sits in the world.
func (r *reach) follow(x0, obs, mask []float32, pl place) {
	D := r.D
	placed := map[int]bool{} // frames where this call has placed a target
	row := make([]float32, D)
	set := func(i int, v float32) { obs[i], mask[i] = v, 1 }
	for _, t := range r.targets {
		f := t.Frame * D
		target := pl.point(t.Pos)
		st := r.stated[t.Frame]
		copy(row, x0[f:f+D])
		// Another target already placed the body at this frame in this call:
		// start from the pose it left (root, heading, its chain), and move
		// the body no further, or that target would be left behind.
		earlier := placed[t.Frame]
		if earlier {
			for i := range row {
				if mask[f+i] == 1 {
					row[i] = obs[f+i]
				}
			}
		}
		fixed := st.XZ || earlier
		if st.XZ {
			row[r.oRoot], row[r.oRoot+2] = obs[f+r.oRoot], obs[f+r.oRoot+2]
		}
		if st.Y {
			row[r.oRoot+1] = obs[f+r.oRoot+1]
		}
		if st.Heading {
			row[r.oHead], row[r.oHead+1] = obs[f+r.oHead], obs[f+r.oHead+1]
		}
		m, err := r.lay.Decode(row, 1)
		if err != nil {
			continue // a non-finite prediction: keep the last known values
		}
		if !fixed { // carry the whole pose so the joint is over the target
			p := m.WorldPositions()[t.Joint]
			dx, dz := target[0]-p[0], target[2]-p[2]
			row[r.oRoot] += float32(dx)
			row[r.oRoot+2] += float32(dz)
			m.Root[0] = m.Root[0].Add(mgl64.Vec3{dx, 0, dz})
		}
		// Out of the limb's reach (an arm already straight): move the body
		// along as far as no other constraint fixes the root, then reach
		// again. Up too: a hand raised above the model's pose (a target from
		// a reach or a jump) lifts the hips, and the next steps make the
		// rest of the body stand up or leave the floor to agree.
		miss, err := t.Limb.Reach(m, 0, target)
		for try := 0; err == nil && miss > 1e-4 && try < 3; try++ {
			d := target.Sub(m.WorldPositions()[t.Joint])
			if fixed {
				d[0], d[2] = 0, 0
			}
			if st.Y || earlier {
				d[1] = 0
			}
			if d.Len() < 1e-9 {
				break
			}
			row[r.oRoot] += float32(d[0])
			row[r.oRoot+1] += float32(d[1])
			row[r.oRoot+2] += float32(d[2])
			m.Root[0] = m.Root[0].Add(d)
			miss, err = t.Limb.Reach(m, 0, target)
		}
		if err != nil {
			continue
		}
		enc, err := r.lay.Encode(m)
		if err != nil {
			continue
		}
		// One frame encodes relative to its own hips; the features are
		// relative to the smooth root, which sits elsewhere.
		hx, hz := float32(m.Root[0][0])-row[r.oRoot], float32(m.Root[0][2])-row[r.oRoot+2]
		for _, i := range t.Chain {
			l := r.oLocal + 3*i
			set(f+l, enc[l]+hx)
			set(f+l+1, enc[l+1])
			set(f+l+2, enc[l+2]+hz)
			for k := r.oRot + 6*i; k < r.oRot+6*i+6; k++ {
				set(f+k, enc[k])
			}
		}
		set(f+r.oRoot, row[r.oRoot])
		set(f+r.oRoot+2, row[r.oRoot+2])
		set(f+r.oRoot+1, row[r.oRoot+1])
		c, s := row[r.oHead], row[r.oHead+1]
		if n := float32(math.Hypot(float64(c), float64(s))); n > 1e-6 {
			c, s = c/n, s/n
		} else {
			c, s = 1, 0
		}
		set(f+r.oHead, c)
		set(f+r.oHead+1, s)
		placed[t.Frame] = true
	}
}
