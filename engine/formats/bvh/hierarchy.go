package bvh

import (
	"bytes"
	"strconv"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// channel kinds, in the order of the names below.
const (
	xPos = iota
	yPos
	zPos
	xRot
	yRot
	zRot
)

var channelNames = [...]string{"Xposition", "Yposition", "Zposition", "Xrotation", "Yrotation", "Zrotation"}

// node is one joint as the file declares it.
type node struct {
	joint    motion.Joint
	line     int               // where it was declared
	pos      [3]int            // channel index of X/Y/Z position, -1 when absent
	rot      []int             // axes (0=X) of the rotation channels in file order
	rotAt    []int             // channel index of each rotation channel
	order    motion.EulerOrder // the rotation channels' order, unlisted axes last; "" without rotations
	hasOff   bool
	hasChans bool
	hasEnd   bool
}

type parser struct {
	data  []byte
	pos   int
	line  int
	nodes []node
	names map[string]int

	channels int // values per frame line
	frameN   int
	frameDT  float64
}

// isSpace reports the separators BVH files use, CR included.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

// next returns the next whitespace-separated token and its line, or nil at
// the end of the input.
func (p *parser) next() ([]byte, int) {
	for p.pos < len(p.data) && isSpace(p.data[p.pos]) {
		if p.data[p.pos] == '\n' {
			p.line++
		}
		p.pos++
	}
	start := p.pos
	for p.pos < len(p.data) && !isSpace(p.data[p.pos]) {
		p.pos++
	}
	if start == p.pos {
		return nil, p.line
	}
	return p.data[start:p.pos], p.line
}

// restOfLine returns the tokens left on the current line.
func (p *parser) restOfLine() [][]byte {
	var out [][]byte
	for {
		for p.pos < len(p.data) && p.data[p.pos] != '\n' && isSpace(p.data[p.pos]) {
			p.pos++
		}
		if p.pos >= len(p.data) || p.data[p.pos] == '\n' {
			return out
		}
		tok, _ := p.next()
		out = append(out, tok)
	}
}

func (p *parser) expect(want string) error {
	tok, line := p.next()
	if tok == nil {
		return syntaxErr(line, "unexpected end of file, want %q", want)
	}
	if !bytes.EqualFold(tok, []byte(want)) {
		return syntaxErr(line, "got %q, want %q", tok, want)
	}
	return nil
}

func (p *parser) number(what string) (float64, error) {
	tok, line := p.next()
	if tok == nil {
		return 0, syntaxErr(line, "unexpected end of file in %s", what)
	}
	v, ok := parseFloat(tok)
	if !ok {
		return 0, syntaxErr(line, "bad number %q in %s", tok, what)
	}
	return v, nil
}

func (p *parser) vec3(what string) (mgl64.Vec3, error) {
	var v mgl64.Vec3
	for k := range v {
		x, err := p.number(what)
		if err != nil {
			return v, err
		}
		v[k] = x
	}
	return v, nil
}

// hierarchy parses HIERARCHY up to (not including) MOTION. Blocks are kept on
// an explicit stack so deeply nested input cannot exhaust the Go stack.
func (p *parser) hierarchy() error {
	if err := p.expect("HIERARCHY"); err != nil {
		return err
	}
	if tok, line := p.next(); !bytes.EqualFold(tok, []byte("ROOT")) {
		if tok == nil {
			return syntaxErr(line, "unexpected end of file, want ROOT")
		}
		return syntaxErr(line, "got %q, want ROOT", tok)
	}
	p.names = map[string]int{}
	if err := p.openJoint(-1); err != nil {
		return err
	}
	// stack holds the open blocks: a joint index, or -1 for an End Site.
	stack := []int{0}
	for len(stack) > 0 {
		tok, line := p.next()
		top := stack[len(stack)-1]
		switch {
		case tok == nil:
			return syntaxErr(line, "unexpected end of file: %d unclosed block(s) (missing '}')", len(stack))
		case string(tok) == "}":
			if top >= 0 {
				n := &p.nodes[top]
				if !n.hasOff {
					return syntaxErr(line, "joint %q has no OFFSET", n.joint.Name)
				}
			}
			stack = stack[:len(stack)-1]
		case bytes.EqualFold(tok, []byte("OFFSET")):
			v, err := p.vec3("OFFSET")
			if err != nil {
				return err
			}
			if top < 0 {
				n := &p.nodes[stack[len(stack)-2]]
				n.joint.EndOffset = v
				continue
			}
			n := &p.nodes[top]
			if n.hasOff {
				return syntaxErr(line, "joint %q has a second OFFSET", n.joint.Name)
			}
			n.joint.Offset, n.hasOff = v, true
		case bytes.EqualFold(tok, []byte("CHANNELS")):
			if top < 0 {
				return syntaxErr(line, "an End Site has no channels")
			}
			if err := p.channelList(top, line); err != nil {
				return err
			}
		case bytes.EqualFold(tok, []byte("JOINT")):
			if top < 0 {
				return syntaxErr(line, "JOINT inside an End Site")
			}
			if err := p.openJoint(top); err != nil {
				return err
			}
			stack = append(stack, len(p.nodes)-1)
		case bytes.EqualFold(tok, []byte("End")):
			if top < 0 {
				return syntaxErr(line, "End Site inside an End Site")
			}
			rest := p.restOfLine() // "Site", sometimes followed by a name or '{'
			if len(rest) == 0 || !bytes.EqualFold(rest[0], []byte("Site")) {
				return syntaxErr(line, "got %q without \"Site\"", tok)
			}
			n := &p.nodes[top]
			if n.hasEnd {
				return syntaxErr(line, "joint %q has a second End Site", n.joint.Name)
			}
			n.hasEnd = true
			if string(rest[len(rest)-1]) != "{" {
				if err := p.expect("{"); err != nil {
					return err
				}
			}
			stack = append(stack, -1)
		case bytes.EqualFold(tok, []byte("ROOT")):
			return syntaxErr(line, "a second ROOT (only one hierarchy is supported) or a missing '}'")
		case bytes.EqualFold(tok, []byte("MOTION")):
			return syntaxErr(line, "MOTION before the hierarchy is closed (missing '}')")
		default:
			return syntaxErr(line, "unexpected %q in joint block", tok)
		}
	}
	return nil
}

// openJoint reads "name {" after ROOT or JOINT. The name is the rest of the
// line, so names with spaces survive.
func (p *parser) openJoint(parent int) error {
	line := p.line
	rest := p.restOfLine()
	brace := len(rest) > 0 && string(rest[len(rest)-1]) == "{"
	if brace {
		rest = rest[:len(rest)-1]
	}
	if len(rest) == 0 {
		return syntaxErr(line, "joint without a name")
	}
	name := string(bytes.Join(rest, []byte(" ")))
	if prev, dup := p.names[name]; dup {
		return syntaxErr(line, "duplicate joint name %q (first at line %d)", name, p.nodes[prev].line)
	}
	if !brace {
		if err := p.expect("{"); err != nil {
			return err
		}
	}
	p.names[name] = len(p.nodes)
	p.nodes = append(p.nodes, node{
		joint: motion.Joint{Name: name, Parent: parent, Rest: mgl64.QuatIdent()},
		line:  line,
		pos:   [3]int{-1, -1, -1},
	})
	return nil
}

// channelList reads "n name…" after CHANNELS for node i.
func (p *parser) channelList(i, line int) error {
	n := &p.nodes[i]
	if n.hasChans {
		return syntaxErr(line, "joint %q has a second CHANNELS line", n.joint.Name)
	}
	n.hasChans = true
	tok, _ := p.next()
	count, err := strconv.Atoi(string(tok))
	if err != nil || count < 0 || count > 6 {
		return syntaxErr(line, "bad channel count %q (want 0 to 6)", tok)
	}
	var seen [6]bool
	for k := 0; k < count; k++ {
		tok, tline := p.next()
		kind := -1
		for c, name := range channelNames {
			if bytes.EqualFold(tok, []byte(name)) {
				kind = c
			}
		}
		switch {
		case tok == nil:
			return syntaxErr(tline, "unexpected end of file in CHANNELS")
		case kind < 0:
			return syntaxErr(tline, "unknown channel %q (want Xposition, Yposition, Zposition, Xrotation, Yrotation or Zrotation)", tok)
		case seen[kind]:
			return syntaxErr(tline, "channel %s listed twice", channelNames[kind])
		}
		seen[kind] = true
		if kind < xRot {
			n.pos[kind] = p.channels
		} else {
			n.rot = append(n.rot, kind-xRot)
			n.rotAt = append(n.rotAt, p.channels)
		}
		p.channels++
	}
	if len(n.rot) > 0 {
		// One or two rotation channels compose in the listed order; the
		// axes not listed follow with angle 0 (the identity), so every
		// rotating joint is one Euler order.
		order := make([]byte, 0, 3)
		for _, a := range n.rot {
			order = append(order, byte('X'+a))
		}
		for a := byte('X'); a <= 'Z'; a++ {
			if !bytes.ContainsRune(order, rune(a)) {
				order = append(order, a)
			}
		}
		n.order = motion.EulerOrder(order)
	}
	return nil
}

// motionHeader parses "MOTION", "Frames: n" and "Frame Time: dt".
func (p *parser) motionHeader() error {
	tok, line := p.next()
	switch {
	case bytes.EqualFold(tok, []byte("ROOT")):
		return syntaxErr(line, "a second ROOT (only one hierarchy is supported)")
	case tok == nil:
		return syntaxErr(line, "unexpected end of file, want \"MOTION\"")
	case !bytes.EqualFold(tok, []byte("MOTION")):
		return syntaxErr(line, "got %q, want \"MOTION\"", tok)
	}
	tok, line = p.next()
	if !bytes.EqualFold(tok, []byte("Frames:")) {
		return syntaxErr(line, "got %q, want \"Frames:\"", tok)
	}
	tok, line = p.next()
	n, err := strconv.Atoi(string(tok))
	switch {
	case err != nil:
		return syntaxErr(line, "bad frame count %q", tok)
	case n <= 0:
		return syntaxErr(line, "frame count %d is not positive", n)
	}
	p.frameN = n
	if err := p.expect("Frame"); err != nil {
		return err
	}
	if err := p.expect("Time:"); err != nil {
		return err
	}
	dt, err := p.number("Frame Time")
	if err != nil {
		return err
	}
	// 0.1 to 10,000 frames per second covers every capture rate; outside it
	// the clip's duration (and anything resampled from it) is absurd.
	if !(dt >= 1e-4 && dt <= 10) {
		return syntaxErr(p.line, "frame time %g s is outside 0.0001–10 s (0.1–10000 fps)", dt)
	}
	p.frameDT = dt
	if extra := p.restOfLine(); len(extra) > 0 {
		return syntaxErr(p.line, "unexpected %q after the frame time", extra[0])
	}
	if p.channels == 0 {
		return syntaxErr(p.line, "the hierarchy has no channels")
	}
	return nil
}
