package model

import (
	"errors"
	"fmt"
	"math"

	"github.com/motionstudio/studio/engine/motion"
)

// ErrFeatures is wrapped by every feature encode, decode and normalisation error.
var ErrFeatures = errors.New("model features")

// Feature block names, in the order of the default layout (Kimodo's).
const (
	BlockSmoothRootPos   = "smooth_root_pos"        // 3: smoothed Hips x, raw Hips y, smoothed Hips z
	BlockRootHeading     = "global_root_heading"    // 2: cos θ, sin θ
	BlockLocalPositions  = "local_joints_positions" // 3J: joint position minus (smooth x, 0, smooth z)
	BlockGlobalRotations = "global_rot_data"        // 6J: world rotation matrix columns 0 and 1
	BlockVelocities      = "velocities"             // 3J: world joint velocity, m/s
	BlockFootContacts    = "foot_contacts"          // C: 0/1 per contact joint
)

// BlockNames lists every block in the default order.
var BlockNames = []string{BlockSmoothRootPos, BlockRootHeading, BlockLocalPositions, BlockGlobalRotations, BlockVelocities, BlockFootContacts}

// blockSizes returns each block's size for j predicted and c contact joints.
func blockSizes(j, c int) map[string]int {
	return map[string]int{
		BlockSmoothRootPos:   3,
		BlockRootHeading:     2,
		BlockLocalPositions:  3 * j,
		BlockGlobalRotations: 6 * j,
		BlockVelocities:      3 * j,
		BlockFootContacts:    c,
	}
}

// DefaultPredictedJoints returns the 22 SOMA77 joints the bundled model
// predicts, in feature order.
func DefaultPredictedJoints() []string {
	return []string{
		"Hips", "Spine1", "Spine2", "Chest", "Neck1", "Head",
		"LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand",
		"RightShoulder", "RightArm", "RightForeArm", "RightHand",
		"LeftLeg", "LeftShin", "LeftFoot", "LeftToeBase",
		"RightLeg", "RightShin", "RightFoot", "RightToeBase",
	}
}

// DefaultFPS is the frame rate of the default layout.
const DefaultFPS = 30

// DefaultFeatures returns the features section of the default layout for
// the given predicted joints (DefaultPredictedJoints for the bundled model).
func DefaultFeatures(predicted []string) Features {
	sizes := blockSizes(len(predicted), 4)
	f := Features{
		RootSmoothingSigmaFrames: 2,
		HeadingJoints:            []string{"RightLeg", "LeftLeg"},
		ContactJoints:            []string{"LeftFoot", "LeftToeBase", "RightFoot", "RightToeBase"},
		ContactSpeedMax:          motion.ContactSpeedMax,
		ContactHeightMax:         motion.ContactHeightMax,
	}
	for _, name := range BlockNames {
		f.Blocks = append(f.Blocks, Block{Name: name, Size: sizes[name]})
		f.Dim += sizes[name]
	}
	return f
}

// Layout maps SOMA77 motions to per-frame feature vectors and back. It is
// immutable and safe for concurrent use.
type Layout struct {
	fps    float64
	skel   *motion.Skeleton
	names  []string // predicted joints, feature order
	joints []int    // skeleton index per predicted joint
	featOf []int    // per skeleton joint: its predicted index, or -1
	blocks []Block
	dim    int

	off Offsets
	// Block offsets, short names for off's (the encoder's inner loops).
	oRoot, oHeading, oLocal, oRot, oVel, oContact int

	heading   [2]int // skeleton indices: d = pos[heading[0]] − pos[heading[1]]
	contacts  []int
	speedMax  float64
	heightMax float64
	kernel    []float64 // Gaussian weights for offsets 0..radius; nil: no smoothing
	outKernel []float64 // the same for the host's smoothing of sampled output (SmoothOutput)
	resKernel []float64 // SmoothOutputAround's of a sample's residual on a clip, when the bundle sets one
}

// DefaultLayout returns the layout of the bundled model: the 22 joints of
// DefaultPredictedJoints at 30 fps, D = 273.
func DefaultLayout() *Layout {
	names := DefaultPredictedJoints()
	l, err := NewLayout(DefaultFPS, names, DefaultFeatures(names))
	if err != nil {
		panic(fmt.Sprintf("default layout: %v", err)) // a build defect, not user data
	}
	return l
}

// LayoutFromManifest builds the layout a bundle's model reads and writes.
func LayoutFromManifest(m *Manifest) (*Layout, error) {
	l, err := NewLayoutOn(m.Skeleton, m.FPS, m.PredictedJoints, m.Features)
	if err != nil {
		return nil, err
	}
	if r := m.Retrieval; r != nil && r.ResidualSigmaFrames > 0 {
		l.resKernel = gaussianKernel(r.ResidualSigmaFrames)
	}
	return l, nil
}

// NewLayout builds a SOMA77 layout from a features section; it applies the
// same checks as model.json validation.
func NewLayout(fps float64, predicted []string, f Features) (*Layout, error) {
	return NewLayoutOn(SkeletonSOMA77, fps, predicted, f)
}

// NewLayoutOn is NewLayout for a named skeleton (only "soma77" so far).
func NewLayoutOn(skeleton string, fps float64, predicted []string, f Features) (*Layout, error) {
	m := &Manifest{Skeleton: skeleton, PredictedJoints: predicted, Features: f}
	if skeleton != SkeletonSOMA77 {
		return nil, bundleErr("skeleton", "%q is not supported (want %q)", skeleton, SkeletonSOMA77)
	}
	if !positive(fps) {
		return nil, bundleErr("fps", "%g is not a positive number", fps)
	}
	if err := m.validateJoints(); err != nil {
		return nil, err
	}
	if err := m.validateFeatures(); err != nil {
		return nil, err
	}
	skel := skeletonOf(skeleton)
	l := &Layout{
		fps:       fps,
		skel:      skel,
		names:     append([]string(nil), predicted...),
		joints:    make([]int, len(predicted)),
		featOf:    make([]int, skel.Len()),
		blocks:    append([]Block(nil), f.Blocks...),
		dim:       f.Dim,
		speedMax:  f.ContactSpeedMax,
		heightMax: f.ContactHeightMax,
	}
	for i := range l.featOf {
		l.featOf[i] = -1
	}
	for i, name := range predicted {
		j, _ := skel.Index(name)
		l.joints[i], l.featOf[j] = j, i
	}
	l.heading[0], _ = skel.Index(f.HeadingJoints[0])
	l.heading[1], _ = skel.Index(f.HeadingJoints[1])
	for _, name := range f.ContactJoints {
		j, _ := skel.Index(name)
		l.contacts = append(l.contacts, j)
	}
	off, err := resolveOffsets(l.blocks)
	if err != nil {
		return nil, err
	}
	l.off = off
	l.oRoot, l.oHeading, l.oLocal = off.RootPos.Off, off.Heading.Off, off.LocalJoints.Off
	l.oRot, l.oVel, l.oContact = off.Rotations.Off, off.Velocities.Off, off.Contacts.Off
	l.kernel = gaussianKernel(f.RootSmoothingSigmaFrames)
	l.outKernel = gaussianKernel(f.OutputSmoothingSigmaFrames)
	return l, nil
}

// Span is where one feature block sits in a frame's vector: entries
// [Off, Off+Size).
type Span struct{ Off, Size int }

// End is the first entry after the block.
func (s Span) End() int { return s.Off + s.Size }

// Offsets are a layout's feature blocks, resolved once from its features
// section when the layout is built, so that code reading or writing
// features names a block by field, never by string.
type Offsets struct {
	RootPos     Span // smooth_root_pos: smoothed Hips x, raw Hips y, smoothed Hips z
	Heading     Span // global_root_heading: cos θ, sin θ
	LocalJoints Span // local_joints_positions: 3 per predicted joint
	Rotations   Span // global_rot_data: 6 per predicted joint
	Velocities  Span // velocities: 3 per predicted joint
	Contacts    Span // foot_contacts: 1 per contact joint
}

// resolveOffsets places every block the layout needs; a features section
// lacking one gets a bundle error naming it (model.json validation runs it).
func resolveOffsets(blocks []Block) (Offsets, error) {
	var o Offsets
	fields := map[string]*Span{
		BlockSmoothRootPos: &o.RootPos, BlockRootHeading: &o.Heading, BlockLocalPositions: &o.LocalJoints,
		BlockGlobalRotations: &o.Rotations, BlockVelocities: &o.Velocities, BlockFootContacts: &o.Contacts,
	}
	found := map[string]bool{}
	at := 0
	for _, b := range blocks {
		if sp, ok := fields[b.Name]; ok {
			*sp, found[b.Name] = Span{Off: at, Size: b.Size}, true
		}
		at += b.Size
	}
	for _, name := range BlockNames { // in a fixed order: the first missing one is named
		if !found[name] {
			return Offsets{}, bundleErr("features.blocks", "block %q is missing", name)
		}
	}
	return o, nil
}

// gaussianKernel returns normalised weights for offsets 0..⌈4σ⌉ (the
// negative offsets mirror them), or nil for σ = 0.
func gaussianKernel(sigma float64) []float64 {
	if sigma == 0 {
		return nil
	}
	r := int(math.Ceil(4 * sigma))
	w := make([]float64, r+1)
	sum := 0.0
	for k := range w {
		w[k] = math.Exp(-float64(k*k) / (2 * sigma * sigma))
		if k == 0 {
			sum += w[k]
		} else {
			sum += 2 * w[k]
		}
	}
	for k := range w {
		w[k] /= sum
	}
	return w
}

// skeletonOf returns the skeleton a validated manifest names.
func skeletonOf(string) *motion.Skeleton { return motion.SOMA77() }

// Dim is the number of features per frame.
func (l *Layout) Dim() int { return l.dim }

// FPS is the frame rate the layout's velocities assume.
func (l *Layout) FPS() float64 { return l.fps }

// Skeleton is the skeleton decoded motions are on.
func (l *Layout) Skeleton() *motion.Skeleton { return l.skel }

// Joints returns the predicted joints in feature order.
func (l *Layout) Joints() []string { return append([]string(nil), l.names...) }

// JointIndex returns a predicted joint's index in feature order (joint i
// occupies local_joints_positions[3i:3i+3], global_rot_data[6i:6i+6] and
// velocities[3i:3i+3]).
func (l *Layout) JointIndex(name string) (int, bool) {
	j, ok := l.skel.Index(name)
	if !ok || l.featOf[j] < 0 {
		return -1, false
	}
	return l.featOf[j], true
}

// Offsets returns where each feature block sits.
func (l *Layout) Offsets() Offsets { return l.off }

// Blocks returns the blocks in feature order.
func (l *Layout) Blocks() []Block { return append([]Block(nil), l.blocks...) }

// Block returns a block's offset and size in the feature vector.
func (l *Layout) Block(name string) (offset, size int, ok bool) {
	for _, b := range l.blocks {
		if b.Name == name {
			return offset, b.Size, true
		}
		offset += b.Size
	}
	return 0, 0, false
}
