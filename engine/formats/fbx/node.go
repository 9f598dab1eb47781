package fbx

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Binary FBX framing (versions below 7500: 32-bit record offsets).
const (
	// Version is the FBX version we write: 7.4, which every importer in use
	// reads (Blender's since 2.7x, Unity, Unreal, Maya).
	Version  = 7400
	magic    = "Kaydara FBX Binary  \x00\x1a\x00"
	headerSz = len(magic) + 4
	// A record header is end offset, property count, property bytes (uint32
	// each) and the name length (one byte); a nested list ends with a null
	// record of the same 13 bytes.
	recordHead = 13
	sentinelSz = 13
)

// Footer constants as the FBX SDK writes them (and Blender's exporter after
// it): a 16-byte id, four zero bytes, padding to 16, the version, 120 zero
// bytes and a 16-byte magic.
var (
	footID    = []byte{0xfa, 0xbc, 0xab, 0x09, 0xd0, 0xc8, 0xd4, 0x66, 0xb1, 0x76, 0xfb, 0x83, 0x1c, 0xf7, 0x26, 0x7e}
	footMagic = []byte{0xf8, 0x5a, 0x8c, 0x6a, 0xde, 0xf5, 0xd9, 0x7e, 0xec, 0xe9, 0x0c, 0xe3, 0x75, 0x8f, 0x29, 0x0b}
)

// Node is one FBX node record: a name, typed properties and child nodes.
// A property is one of int16 (Y), bool (C), int32 (I), float32 (F),
// float64 (D), int64 (L), string (S), []byte (R) or an array []float32 (f),
// []float64 (d), []int32 (i), []int64 (l), []bool (b).
type Node struct {
	Name     string
	Props    []any
	Children []*Node
}

// Child returns the first child named name, or nil.
func (n *Node) Child(name string) *Node {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// All returns the children named name.
func (n *Node) All(name string) []*Node {
	var out []*Node
	for _, c := range n.Children {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

func node(name string, props ...any) *Node { return &Node{Name: name, Props: props} }

func (n *Node) add(c ...*Node) *Node {
	n.Children = append(n.Children, c...)
	return n
}

// propSize is the encoded size of one property, type byte included.
func propSize(p any) (int, error) {
	switch v := p.(type) {
	case int16:
		return 3, nil
	case bool:
		return 2, nil
	case int32, float32:
		return 5, nil
	case int64, float64:
		return 9, nil
	case string:
		return 5 + len(v), nil
	case []byte:
		return 5 + len(v), nil
	case []float32:
		return 13 + 4*len(v), nil
	case []int32:
		return 13 + 4*len(v), nil
	case []float64:
		return 13 + 8*len(v), nil
	case []int64:
		return 13 + 8*len(v), nil
	case []bool:
		return 13 + len(v), nil
	}
	return 0, fmt.Errorf("fbx: property of type %T cannot be encoded", p)
}

// size returns the record's encoded size, nested list and null record
// included, and the size of its properties.
func (n *Node) size() (total, props int, err error) {
	if len(n.Name) > 255 {
		return 0, 0, fmt.Errorf("%w: node name of %d bytes (at most 255)", ErrRange, len(n.Name))
	}
	for _, p := range n.Props {
		s, err := propSize(p)
		if err != nil {
			return 0, 0, err
		}
		props += s
	}
	total = recordHead + len(n.Name) + props
	for _, c := range n.Children {
		s, _, err := c.size()
		if err != nil {
			return 0, 0, err
		}
		total += s
	}
	if hasNested(n) {
		total += sentinelSz
	}
	return total, props, nil
}

// hasNested: a record gets a nested list (closed by a null record) when it
// has children or no properties, as the FBX SDK writes them.
func hasNested(n *Node) bool { return len(n.Children) > 0 || len(n.Props) == 0 }

// encoder writes records, tracking the absolute offset that record headers
// point to; the first write error sticks.
type encoder struct {
	w   io.Writer
	off int64
	err error
	buf []byte
}

func (e *encoder) write(b []byte) {
	if e.err != nil {
		return
	}
	n, err := e.w.Write(b)
	e.off += int64(n)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	e.err = err
}

func (e *encoder) u32(v uint32) { e.write(binary.LittleEndian.AppendUint32(e.buf[:0], v)) }

func (e *encoder) node(n *Node) error {
	total, props, err := n.size()
	if err != nil {
		return err
	}
	end := e.off + int64(total)
	if end > math.MaxUint32 {
		return fmt.Errorf("%w: file larger than 4 GiB (FBX 7.4 offsets are 32-bit)", ErrRange)
	}
	e.u32(uint32(end))
	e.u32(uint32(len(n.Props)))
	e.u32(uint32(props))
	e.write(append(e.buf[:0], byte(len(n.Name))))
	e.write([]byte(n.Name))
	for _, p := range n.Props {
		e.prop(p)
	}
	for _, c := range n.Children {
		if err := e.node(c); err != nil {
			return err
		}
	}
	if hasNested(n) {
		e.write(make([]byte, sentinelSz))
	}
	return e.err
}

func (e *encoder) prop(p any) {
	le := binary.LittleEndian
	b := e.buf[:0]
	switch v := p.(type) {
	case int16:
		b = le.AppendUint16(append(b, 'Y'), uint16(v))
	case bool:
		c := byte(0)
		if v {
			c = 1
		}
		b = append(b, 'C', c)
	case int32:
		b = le.AppendUint32(append(b, 'I'), uint32(v))
	case float32:
		b = le.AppendUint32(append(b, 'F'), math.Float32bits(v))
	case int64:
		b = le.AppendUint64(append(b, 'L'), uint64(v))
	case float64:
		b = le.AppendUint64(append(b, 'D'), math.Float64bits(v))
	case string:
		b = append(le.AppendUint32(append(b, 'S'), uint32(len(v))), v...)
	case []byte:
		b = append(le.AppendUint32(append(b, 'R'), uint32(len(v))), v...)
	case []float32:
		b = arrayHead(b, 'f', len(v), 4)
		for _, x := range v {
			b = le.AppendUint32(b, math.Float32bits(x))
		}
	case []float64:
		b = arrayHead(b, 'd', len(v), 8)
		for _, x := range v {
			b = le.AppendUint64(b, math.Float64bits(x))
		}
	case []int32:
		b = arrayHead(b, 'i', len(v), 4)
		for _, x := range v {
			b = le.AppendUint32(b, uint32(x))
		}
	case []int64:
		b = arrayHead(b, 'l', len(v), 8)
		for _, x := range v {
			b = le.AppendUint64(b, uint64(x))
		}
	case []bool:
		b = arrayHead(b, 'b', len(v), 1)
		for _, x := range v {
			c := byte(0)
			if x {
				c = 1
			}
			b = append(b, c)
		}
	}
	e.write(b)
	e.buf = b[:0]
}

// arrayHead appends an array's type, length, encoding (0: raw) and byte size.
func arrayHead(b []byte, typ byte, n, elem int) []byte {
	le := binary.LittleEndian
	b = append(b, typ)
	b = le.AppendUint32(b, uint32(n))
	b = le.AppendUint32(b, 0)
	return le.AppendUint32(b, uint32(n*elem))
}

// encode writes a whole binary FBX file: header, top-level records, the
// null record that ends them, and the footer.
func encode(w io.Writer, top []*Node) error {
	e := &encoder{w: w, buf: make([]byte, 0, 64)}
	e.write([]byte(magic))
	e.u32(Version)
	for _, n := range top {
		if err := e.node(n); err != nil {
			return err
		}
	}
	e.write(make([]byte, sentinelSz))
	e.write(footID)
	e.write(make([]byte, 4))
	pad := 16 - int(e.off%16)
	e.write(make([]byte, pad))
	e.u32(Version)
	e.write(make([]byte, 120))
	e.write(footMagic)
	if e.err != nil {
		return fmt.Errorf("fbx: write: %w", e.err)
	}
	return nil
}
