package bvh

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// Read parses a BVH file from r. Malformed input gives a *SyntaxError.
func Read(r io.Reader) (*motion.Motion, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("bvh: read: %w", err)
	}
	return Parse(data)
}

// ReadFile parses the BVH file at path.
func ReadFile(path string) (*motion.Motion, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bvh: %w", err)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Parse parses a whole BVH file held in memory.
func Parse(data []byte) (*motion.Motion, error) {
	p := &parser{data: bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), line: 1}
	if err := p.hierarchy(); err != nil {
		return nil, err
	}
	if err := p.motionHeader(); err != nil {
		return nil, err
	}
	return p.frames()
}

// frames parses the frame lines and builds the motion.
func (p *parser) frames() (*motion.Motion, error) {
	joints := make([]motion.Joint, len(p.nodes))
	for i := range p.nodes {
		joints[i] = p.nodes[i].joint
	}
	skel, err := motion.NewSkeleton(joints)
	if err != nil {
		return nil, fmt.Errorf("bvh: %w", err)
	}
	J := len(p.nodes)
	// Every frame holds a rotation per joint, channels or not: bound the
	// whole clip so a small file cannot ask for gigabytes.
	if p.frameN > maxJointFrames/J {
		return nil, syntaxErr(p.line, "clip too large: %d frames × %d joints is over %d joint-frames", p.frameN, J, maxJointFrames)
	}
	// Reserve only what the remaining bytes can hold (two bytes per value at
	// least), so a huge "Frames:" in a tiny file cannot exhaust memory.
	capFrames := min(p.frameN, (len(p.data)-p.pos)/(2*p.channels)+1)
	m := &motion.Motion{
		Skel: skel,
		FPS:  snapFPS(1 / p.frameDT),
		Root: make([]mgl64.Vec3, 0, capFrames),
		Rot:  make([]mgl64.Quat, 0, capFrames*J),
	}
	hasTrans := false
	for i := 1; i < J; i++ {
		if p.nodes[i].pos != [3]int{-1, -1, -1} {
			hasTrans = true
		}
	}
	if hasTrans {
		m.Trans = make([]mgl64.Vec3, 0, capFrames*J)
	}

	vals := make([]float64, p.channels)
	data := p.data
	i := p.pos
	// motionHeader left i at the '\n' ending the "Frame Time" line (or EOF).
	line := p.line
	for i < len(data) {
		// data[i] is '\n': step onto the next line.
		i++
		line++
		k := 0
		for {
			for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\v' || data[i] == '\f') {
				i++
			}
			if i >= len(data) || data[i] == '\n' {
				break
			}
			start := i
			for i < len(data) && !isSpace(data[i]) {
				i++
			}
			if k == p.channels {
				return nil, syntaxErr(line, "too many values on frame line %d: want %d", m.Frames()+1, p.channels)
			}
			v, ok := parseFloat(data[start:i])
			if !ok {
				return nil, syntaxErr(line, "bad number %q", data[start:i])
			}
			vals[k] = v
			k++
		}
		if k == 0 {
			continue // blank line
		}
		if k < p.channels {
			return nil, syntaxErr(line, "frame line %d has %d values, want %d", m.Frames()+1, k, p.channels)
		}
		if m.Frames() == p.frameN {
			return nil, syntaxErr(line, "more frame lines than \"Frames: %d\"", p.frameN)
		}
		p.appendFrame(m, vals)
	}
	if m.Frames() < p.frameN {
		return nil, syntaxErr(line, "file ends after %d of %d frames", m.Frames(), p.frameN)
	}
	// Finite numbers can still add up to infinite positions (OFFSET 1e308
	// plus a channel of 1e308).
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("bvh: %w", err)
	}
	return m, nil
}

// maxJointFrames bounds frames × joints of one clip: 2^25 rotations are
// 1 GiB, two orders of magnitude above a ten-minute 120 fps capture of a
// 100-joint rig.
const maxJointFrames = 1 << 25

const degToRad = math.Pi / 180

// appendFrame turns one frame line's values into the root translation and
// one local rotation (and, when present, translation) per joint.
func (p *parser) appendFrame(m *motion.Motion, vals []float64) {
	for j := range p.nodes {
		n := &p.nodes[j]
		q := mgl64.QuatIdent()
		if n.order != "" {
			var a mgl64.Vec3
			for k, axis := range n.rot {
				a[axis] = vals[n.rotAt[k]] * degToRad
			}
			q = motion.EulerToQuat(a, n.order)
		}
		m.Rot = append(m.Rot, q)
		t := n.joint.Offset
		for c, at := range n.pos {
			if at >= 0 {
				if j == 0 {
					t[c] += vals[at] // root: OFFSET + channel (see the package comment)
				} else {
					t[c] = vals[at] // others: the channel replaces OFFSET, as in Blender
				}
			}
		}
		if j == 0 {
			m.Root = append(m.Root, t)
		}
		if m.Trans != nil {
			m.Trans = append(m.Trans, t)
		}
	}
}

// snapFPS rounds a rate computed from a printed frame time to the integer or
// NTSC rate it was meant to be when within 0.1% (0.0083333 s → 120 fps).
func snapFPS(fps float64) float64 {
	best, bestErr := fps, 1e-3
	try := func(r float64) {
		if r > 0 {
			if e := math.Abs(fps-r) / r; e <= bestErr {
				best, bestErr = r, e
			}
		}
	}
	try(math.Round(fps))
	for _, base := range []float64{24, 30, 48, 60, 120, 240} {
		try(base * 1000 / 1001)
	}
	return best
}
