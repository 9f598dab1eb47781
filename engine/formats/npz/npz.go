// Package npz writes motions as NumPy .npz archives in the layout of the
// kimodo-api (`poses`, `trans`, `betas`) plus the decoded outputs of Kimodo's
// motion representation (`posed_joints`, `local_rot_mats`, `global_rot_mats`,
// `root_positions`, `foot_contacts`) and the skeleton a user needs to redo
// forward kinematics (`joint_names`, `parents`, `offsets`).
//
// Keys, with T frames and J joints (every skeleton works, 77 for SOMA77):
//
//	poses            (T,J,3)   float32  axis-angle of each joint's local rotation
//	trans            (T,3)     float32  root translation
//	betas            (16,)     float32  zeros (no body shape)
//	root_positions   (T,3)     float32  world root position (= trans)
//	posed_joints     (T,J,3)   float32  world joint positions
//	local_rot_mats   (T,J,3,3) float32  local rotation matrices, [t,j,r,c] = R[r][c]
//	global_rot_mats  (T,J,3,3) float32  world rotation matrices
//	foot_contacts    (T,4)     bool     LeftFoot, LeftToeBase, RightFoot, RightToeBase:
//	                                    speed < 0.15 m/s and height < 0.10 m (Options)
//	fps              ()        float64  frame rate
//	joint_names      (J,)      <U       joint names
//	parents          (J,)      int32    parent index, -1 for the root
//	offsets          (J,3)     float32  rest offsets from the parent (root: rest position)
//	local_translations (T,J,3) float32  only for clips with per-joint translations
//
// FK: global[j] = global[parent]·local[j] and posed[j] = posed[parent] +
// global[parent]·offsets[j] (local_translations[t,j] when present), from
// posed[root] = trans; rest rotations are not applied (the local rotation
// replaces them). The motion is taken to be in metres, Y up.
//
// fps is a float64 0-d array: kimodo stores a scalar, and np.savez of a
// Python float gives exactly this, keeping rates like 29.97 exact.
//
// Entries are stored uncompressed like np.savez: for a 10,000-frame SOMA77
// clip (74 MB) Options.Compress (np.savez_compressed) saves only ~8% and
// makes the export about four times slower.
//
// Small entries (betas, fps, joint_names, parents) go through npyio's
// npy.Write. The large arrays are streamed with our own NPY 1.0 header:
// npyio discovers a shape by reflecting over every element and writes one
// element per call, about a second per (10000, 77, 3) array, while the
// export budget for all of them is tens of milliseconds.
package npz

import (
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/atomicfile"
)

// maxWorkers bounds the goroutines encoding rows; beyond it the zip
// writer's CRC and copy dominate.
const maxWorkers = 8

// ErrInvalidOptions is wrapped by errors about Options.
var ErrInvalidOptions = errors.New("npz: invalid options")

// Betas is the length of the zero body-shape vector, as kimodo-api sends.
const Betas = 16

// Options controls the writer. The zero value writes Kimodo's contacts.
type Options struct {
	// ContactJoints are the joints of the foot_contacts columns, in order;
	// -1 gives an all-false column. Nil means
	// motion.DefaultContactJoints (LeftFoot, LeftToeBase, RightFoot,
	// RightToeBase, found by name).
	ContactJoints []int
	// ContactSpeed (m/s) and ContactHeight (m) are the contact thresholds;
	// zero means Kimodo's motion.ContactSpeedMax and ContactHeightMax.
	ContactSpeed, ContactHeight float64
	// Compress deflates every entry (np.savez_compressed) instead of
	// storing it (np.savez).
	Compress bool
}

func (o Options) resolve(s *motion.Skeleton) (joints []int, speed, height float64, err error) {
	joints = o.ContactJoints
	if joints == nil {
		joints = motion.DefaultContactJoints(s)
	}
	for _, j := range joints {
		if j < -1 || j >= s.Len() {
			return nil, 0, 0, fmt.Errorf("%w: contact joint %d outside [-1, %d)", ErrInvalidOptions, j, s.Len())
		}
	}
	speed, height = o.ContactSpeed, o.ContactHeight
	if speed == 0 {
		speed = motion.ContactSpeedMax
	}
	if height == 0 {
		height = motion.ContactHeightMax
	}
	if !(speed > 0) || math.IsInf(speed, 0) || math.IsNaN(height) || math.IsInf(height, 0) {
		return nil, 0, 0, fmt.Errorf("%w: contact thresholds speed %g m/s, height %g m", ErrInvalidOptions, speed, height)
	}
	return joints, speed, height, nil
}

// WriteFile writes m to path atomically.
func WriteFile(path string, m *motion.Motion, opt Options) error {
	return atomicfile.WriteFile(path, func(w io.Writer) error { return Write(w, m, opt) })
}

// Write writes m as an .npz archive to w. Entries stream through a small
// buffer; only posed_joints (computed in the same forward-kinematics pass as
// global_rot_mats) and the foot contacts are held whole.
func Write(w io.Writer, m *motion.Motion, opt Options) error {
	if m == nil {
		return fmt.Errorf("npz: %w: nil motion", motion.ErrInvalidMotion)
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("npz: %w", err)
	}
	if err := m.CheckFloat32(); err != nil {
		return fmt.Errorf("npz: %w", err)
	}
	joints, speed, height, err := opt.resolve(m.Skel)
	if err != nil {
		return err
	}
	// Every array must describe the pose of `poses`, which ignores a
	// rotation's length: FK and the matrices need unit rotations.
	m = m.Unit()
	T, J := m.Frames(), m.Skel.Len()
	// Workers share the posed_joints rows that globalMats fills.
	posed := make([]byte, T*J*12)
	encs := make([]*encoder, min(runtime.GOMAXPROCS(0), maxWorkers))
	for k := range encs {
		encs[k] = newEncoder(m, posed)
	}
	a := newArchive(w, opt.Compress, encs)
	// Contacts run their own partial FK beside the first arrays.
	var contacts [][]bool
	contactsDone := make(chan struct{})
	go func() {
		contacts = motion.FootContacts(m, joints, speed, height)
		close(contactsDone)
	}()
	defer func() { <-contactsDone }() // never leave it running on an error

	entries := []entry{
		{key: "poses", descr: "<f4", shape: []int{T, J, 3}, fill: (*encoder).poses},
		{key: "trans", descr: "<f4", shape: []int{T, 3}, fill: (*encoder).root},
		{key: "betas", value: make([]float32, Betas)},
		{key: "root_positions", descr: "<f4", shape: []int{T, 3}, fill: (*encoder).root},
		{key: "local_rot_mats", descr: "<f4", shape: []int{T, J, 3, 3}, fill: (*encoder).localMats},
		// One FK pass: global_rot_mats streams while posed_joints is kept.
		{key: "global_rot_mats", descr: "<f4", shape: []int{T, J, 3, 3}, fill: (*encoder).globalMats},
		{key: "posed_joints", descr: "<f4", shape: []int{T, J, 3}, fill: (*encoder).posed},
		{key: "foot_contacts", descr: "|b1", shape: []int{T, len(joints)}, wait: contactsDone,
			fill: func(_ *encoder, t int, dst []byte) {
				for c, on := range contacts[t] {
					dst[c] = 0
					if on {
						dst[c] = 1
					}
				}
			}},
		{key: "fps", value: m.FPS},
		{key: "joint_names", value: m.Skel.Names()},
		{key: "parents", value: parents(m.Skel)},
		{key: "offsets", descr: "<f4", shape: []int{J, 3}, fill: (*encoder).offsets},
	}
	if m.Trans != nil {
		entries = append(entries, entry{key: "local_translations", descr: "<f4", shape: []int{T, J, 3}, fill: (*encoder).translations})
	}
	for _, e := range entries {
		if e.wait != nil {
			<-e.wait
		}
		if e.fill == nil {
			err = a.value(e.key, e.value)
		} else {
			err = a.array(e.key, e.descr, e.shape, e.fill)
		}
		if err != nil {
			return err
		}
	}
	return a.close()
}

// entry is one array of the archive: streamed row by row (the first axis)
// by fill, or a small value written by npyio.
type entry struct {
	key   string
	descr string // NPY dtype of a streamed array: "<f4" or "|b1"
	shape []int
	fill  rowFunc
	value any
	wait  <-chan struct{} // closed when fill may run
}

func parents(s *motion.Skeleton) []int32 {
	p := make([]int32, s.Len())
	for j, jt := range s.Joints {
		p[j] = int32(jt.Parent)
	}
	return p
}
