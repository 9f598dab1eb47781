package fbx

import (
	"fmt"
	"math"
)

// FBX key attributes (FbxAnimCurveDef): KeyAttrFlags and four floats of
// KeyAttrDataFloat per attribute, KeyAttrRefCount consecutive keys sharing
// each. The data are the right slope, the next key's left slope (both in
// value per second), the two tangent weights packed as 16-bit integers
// (×9999, right in the low half, next left in the high half) in the third
// float's bits, and velocities we do not use.
const (
	keyConstant      = 0x00000002
	keyLinear        = 0x00000004
	keyCubic         = 0x00000008
	keyConstantNext  = 0x00000100 // with keyConstant: hold the next key's value
	keyTangentTCB    = 0x00000200
	keyWeightedRight = 0x01000000
	keyWeightedLeft  = 0x02000000 // the next key's left weight
)

// interp is how a key leads to the next.
type interp uint8

const (
	interpLinear interp = iota
	interpConstant
	interpConstantNext
	interpCubic
)

// segment is the way from one key to the next: for a cubic one, the slopes
// leaving the key and arriving at the next (value per second) and the
// tangents' weights (fractions of the gap, 1/3 unless weighted).
type segment struct {
	mode          interp
	right, left   float64
	wRight, wLeft float64
}

// readSegments reads a curve's key attributes into one segment per key;
// nil when the curve has none (every key linear).
func readSegments(n *Node, keys int) ([]segment, error) {
	flagsNode, dataNode, refsNode := n.Child("KeyAttrFlags"), n.Child("KeyAttrDataFloat"), n.Child("KeyAttrRefCount")
	if flagsNode == nil || len(flagsNode.Props) == 0 {
		return nil, nil
	}
	flags, ok := flagsNode.Props[0].([]int32)
	if !ok {
		return nil, fmt.Errorf("%w: animation curve KeyAttrFlags is not an int32 array", ErrMalformed)
	}
	var data []float32
	if dataNode != nil && len(dataNode.Props) > 0 {
		switch x := dataNode.Props[0].(type) {
		case []float32:
			data = x
		case []float64: // a writer that widened them: the packed weights are lost to rounding, so unweighted
			data = make([]float32, len(x))
			for i, v := range x {
				data[i] = float32(v)
			}
		}
	}
	var refs []int32
	if refsNode != nil && len(refsNode.Props) > 0 {
		refs, _ = refsNode.Props[0].([]int32)
	}
	if len(refs) != len(flags) || len(data) != 4*len(flags) {
		return nil, fmt.Errorf("%w: animation curve with %d KeyAttrFlags, %d KeyAttrDataFloat and %d KeyAttrRefCount (want 4 floats and a count per flag)",
			ErrMalformed, len(flags), len(data), len(refs))
	}
	segs := make([]segment, 0, keys)
	for a, f := range flags {
		if refs[a] < 0 {
			return nil, fmt.Errorf("%w: animation curve KeyAttrRefCount %d is negative", ErrMalformed, refs[a])
		}
		s := segmentOf(f, data[4*a:4*a+4])
		for range min(int(refs[a]), keys-len(segs)) {
			segs = append(segs, s)
		}
	}
	for len(segs) > 0 && len(segs) < keys { // counts that fall short: the last attribute goes on
		segs = append(segs, segs[len(segs)-1])
	}
	if len(segs) < keys {
		return nil, nil
	}
	return segs, nil
}

// segmentOf decodes one attribute. TCB tangents (whose data are tension,
// continuity and bias, not slopes) are taken as linear; non-finite slopes
// too.
func segmentOf(flags int32, d []float32) segment {
	s := segment{wRight: 1.0 / 3, wLeft: 1.0 / 3}
	switch {
	case flags&keyConstant != 0:
		s.mode = interpConstant
		if flags&keyConstantNext != 0 {
			s.mode = interpConstantNext
		}
		return s
	case flags&keyCubic == 0 || flags&keyTangentTCB != 0:
		return s
	}
	s.right, s.left = float64(d[0]), float64(d[1])
	if math.IsInf(s.right, 0) || math.IsNaN(s.right) || math.IsInf(s.left, 0) || math.IsNaN(s.left) {
		return s
	}
	s.mode = interpCubic
	w := math.Float32bits(d[2])
	if flags&keyWeightedRight != 0 {
		s.wRight = min(1, float64(w&0xffff)/9999)
	}
	if flags&keyWeightedLeft != 0 {
		s.wLeft = min(1, float64(w>>16)/9999)
	}
	return s
}

// at is the value a fraction x ∈ (0, 1) of the way from a key of value v0
// to the next of value v1, dt seconds later. A cubic segment is FBX's
// Bézier in (time, value): control points a weight's share of the gap
// along each key's tangent; its time is solved for the curve parameter
// (with 1/3 weights the time is the parameter, and the curve the Hermite
// spline of the two slopes).
func (s segment) at(x, v0, v1, dt float64) float64 {
	switch s.mode {
	case interpConstant:
		return v0
	case interpConstantNext:
		return v1
	case interpLinear:
		return v0 + x*(v1-v0)
	}
	a, b := s.wRight, 1-s.wLeft              // control points' time, as fractions of the gap
	bez := func(p1, p2, u float64) float64 { // 0 and 1 at the ends
		v := 1 - u
		return 3*v*v*u*p1 + 3*v*u*u*p2 + u*u*u
	}
	u := x
	if math.Abs(a-1.0/3) > 1e-9 || math.Abs(b-2.0/3) > 1e-9 {
		lo, hi := 0.0, 1.0 // bez(a, b, ·) rises from 0 to 1 for a, b in [0, 1]
		for range 60 {
			if u = (lo + hi) / 2; bez(a, b, u) < x {
				lo = u
			} else {
				hi = u
			}
		}
	}
	c1 := v0 + s.right*s.wRight*dt
	c2 := v1 - s.left*s.wLeft*dt
	v := 1 - u
	return v*v*v*v0 + 3*v*v*u*c1 + 3*v*u*u*c2 + u*u*u*v1
}
