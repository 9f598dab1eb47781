package fbx

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Parser limits: the nesting FBX files use is under 10 levels, and an
// array may not claim more elements than a hostile file could fill.
const (
	maxDepth      = 64
	maxArrayBytes = 1 << 28
)

// Parse reads a binary FBX file (any 7.x version; 7.5+ uses 64-bit record
// offsets) into its top-level nodes and returns them with the version.
// Truncated or inconsistent input returns an error wrapping ErrMalformed;
// it never panics.
func Parse(data []byte) ([]*Node, int, error) {
	if len(data) < headerSz || string(data[:len(magic)]) != magic {
		return nil, 0, fmt.Errorf("%w: not a binary FBX file (no Kaydara header)", ErrMalformed)
	}
	version := int(binary.LittleEndian.Uint32(data[len(magic):]))
	p := &parser{data: data, off: headerSz, wide: version >= 7500}
	var top []*Node
	for {
		n, err := p.record(0)
		if err != nil {
			return nil, version, err
		}
		if n == nil {
			return top, version, nil
		}
		top = append(top, n)
	}
}

type parser struct {
	data []byte
	off  int
	wide bool // 64-bit record header fields (FBX 7500 and later)
}

func (p *parser) fail(format string, args ...any) error {
	return fmt.Errorf("%w: at byte %d: %s", ErrMalformed, p.off, fmt.Sprintf(format, args...))
}

func (p *parser) take(n int) ([]byte, error) {
	if n < 0 || n > len(p.data)-p.off {
		return nil, p.fail("%d bytes wanted, %d left", n, len(p.data)-p.off)
	}
	b := p.data[p.off : p.off+n]
	p.off += n
	return b, nil
}

func (p *parser) uint() (uint64, error) {
	if p.wide {
		b, err := p.take(8)
		if err != nil {
			return 0, err
		}
		return binary.LittleEndian.Uint64(b), nil
	}
	b, err := p.take(4)
	if err != nil {
		return 0, err
	}
	return uint64(binary.LittleEndian.Uint32(b)), nil
}

// record reads one node record; it returns nil at a null record (the end
// of a nested list or of the file).
func (p *parser) record(depth int) (*Node, error) {
	if depth > maxDepth {
		return nil, p.fail("nodes nested deeper than %d", maxDepth)
	}
	start := p.off
	end, err := p.uint()
	if err != nil {
		return nil, err
	}
	count, err1 := p.uint()
	_, err2 := p.uint() // property bytes: implied by the properties themselves
	nameLen, err3 := p.take(1)
	if err := firstErr(err1, err2, err3); err != nil {
		return nil, err
	}
	if end == 0 {
		return nil, nil
	}
	if end <= uint64(start) || end > uint64(len(p.data)) {
		return nil, p.fail("record end %d outside (%d, %d]", end, start, len(p.data))
	}
	name, err := p.take(int(nameLen[0]))
	if err != nil {
		return nil, err
	}
	if uint64(p.off) > end { // the header and name alone overrun the record
		return nil, p.fail("record end %d inside its own header (at %d)", end, p.off)
	}
	if count > end-uint64(p.off) { // every property takes at least a byte
		return nil, p.fail("%d properties cannot fit in the record", count)
	}
	n := &Node{Name: string(name), Props: make([]any, 0, count)}
	for range count {
		v, err := p.prop()
		if err != nil {
			return nil, fmt.Errorf("node %q: %w", n.Name, err)
		}
		n.Props = append(n.Props, v)
	}
	sentinel := sentinelSz
	if p.wide {
		sentinel = 25
	}
	if uint64(p.off) < end {
		for uint64(p.off)+uint64(sentinel) < end {
			c, err := p.record(depth + 1)
			if err != nil {
				return nil, err
			}
			if c == nil {
				return nil, p.fail("null record inside node %q before its end", n.Name)
			}
			n.Children = append(n.Children, c)
		}
		z, err := p.take(sentinel)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(z, make([]byte, sentinel)) {
			return nil, p.fail("node %q: nested list not closed by a null record", n.Name)
		}
	}
	if uint64(p.off) != end {
		return nil, p.fail("node %q ends at %d, its header says %d", n.Name, p.off, end)
	}
	return n, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func (p *parser) prop() (any, error) {
	t, err := p.take(1)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	fixed := map[byte]int{'Y': 2, 'C': 1, 'I': 4, 'F': 4, 'D': 8, 'L': 8}
	if sz, ok := fixed[t[0]]; ok {
		b, err := p.take(sz)
		if err != nil {
			return nil, err
		}
		switch t[0] {
		case 'Y':
			return int16(le.Uint16(b)), nil
		case 'C':
			return b[0] != 0, nil
		case 'I':
			return int32(le.Uint32(b)), nil
		case 'F':
			return math.Float32frombits(le.Uint32(b)), nil
		case 'D':
			return math.Float64frombits(le.Uint64(b)), nil
		default:
			return int64(le.Uint64(b)), nil
		}
	}
	switch t[0] {
	case 'S', 'R':
		lb, err := p.take(4)
		if err != nil {
			return nil, err
		}
		b, err := p.take(int(le.Uint32(lb)))
		if err != nil {
			return nil, err
		}
		if t[0] == 'S' {
			return string(b), nil
		}
		return append([]byte(nil), b...), nil
	case 'f', 'd', 'i', 'l', 'b', 'c':
		return p.array(t[0])
	}
	return nil, p.fail("unknown property type %q", t[0])
}

// array reads an array property: length, encoding (0 raw, 1 zlib) and the
// stored bytes.
func (p *parser) array(typ byte) (any, error) {
	h, err := p.take(12)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	n, enc, stored := int64(le.Uint32(h)), le.Uint32(h[4:]), int(le.Uint32(h[8:]))
	elem := map[byte]int64{'f': 4, 'd': 8, 'i': 4, 'l': 8, 'b': 1, 'c': 1}[typ]
	want := n * elem
	if want > maxArrayBytes {
		return nil, p.fail("array of %d elements is too large", n)
	}
	raw, err := p.take(stored)
	if err != nil {
		return nil, err
	}
	switch enc {
	case 0:
	case 1:
		// Deflate expands at most about 1032:1; a larger claim is a lie
		// that would only make us allocate.
		if want > int64(stored)*1032+64 {
			return nil, p.fail("zlib array of %d bytes claims %d elements", stored, n)
		}
		zr, err := zlib.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, p.fail("array: %v", err)
		}
		buf := make([]byte, want)
		_, err = io.ReadFull(zr, buf)
		if err == nil {
			// Nothing may follow the declared length.
			if k, _ := zr.Read(make([]byte, 1)); k > 0 {
				err = fmt.Errorf("more data than %d elements", n)
			}
		}
		if err != nil {
			return nil, p.fail("array: zlib: %v", err)
		}
		raw = buf
	default:
		return nil, p.fail("array encoding %d (want 0 or 1)", enc)
	}
	if int64(len(raw)) != want {
		return nil, p.fail("array of %d elements holds %d bytes", n, len(raw))
	}
	return decodeArray(typ, raw, int(n)), nil
}

func decodeArray(typ byte, raw []byte, n int) any {
	le := binary.LittleEndian
	switch typ {
	case 'f':
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
		return out
	case 'd':
		out := make([]float64, n)
		for i := range out {
			out[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
		return out
	case 'i':
		out := make([]int32, n)
		for i := range out {
			out[i] = int32(le.Uint32(raw[4*i:]))
		}
		return out
	case 'l':
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(le.Uint64(raw[8*i:]))
		}
		return out
	case 'b':
		out := make([]bool, n)
		for i := range out {
			out[i] = raw[i] != 0
		}
		return out
	default: // 'c': bytes
		return append([]byte(nil), raw...)
	}
}
