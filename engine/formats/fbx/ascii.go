package fbx

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseASCII reads a text FBX file (6.x or 7.x) into the node tree Parse
// gives for a binary one, and returns it with the file's version (its
// FBXHeaderExtension's FBXVersion, else the "; FBX 7.4.0 project file"
// comment's, else 0). A node is "Name: value, value, … { children }", a
// value a number (integers as int64, others as float64), a quoted string,
// or a bare word (a string: T, Y, L, …); ';' starts a comment; a value
// list goes on past a line that ends in a comma. A 7.x array node
// ("KeyTime: *3 { a: 0,1,2 }") becomes one array property as in binary:
// []int64 for KeyTime, []float32 for KeyValueFloat and KeyAttrDataFloat
// (integers there are the floats' bits, as the FBX SDK writes them),
// []int32 for the index and flag arrays binary files store as such
// (intArrays), else []float64 (vertices, matrices, weights). Malformed input
// returns an error wrapping ErrMalformed; it never panics, and what it
// holds is bounded by the input's size (every value takes a byte).
func ParseASCII(data []byte) ([]*Node, int, error) {
	s := &scanner{data: data}
	s.skip(true)
	top, err := s.nodes(0)
	if err != nil {
		return nil, 0, err
	}
	return top, asciiVersion(data, top), nil
}

type scanner struct {
	data []byte
	off  int
	line int // 0-based, for errors
}

func (s *scanner) fail(format string, args ...any) error {
	return fmt.Errorf("%w: line %d: %s", ErrMalformed, s.line+1, fmt.Sprintf(format, args...))
}

// skip passes spaces and comments, and line ends too when lines is set.
func (s *scanner) skip(lines bool) {
	for s.off < len(s.data) {
		switch c := s.data[s.off]; {
		case c == ' ' || c == '\t' || c == '\r':
			s.off++
		case c == '\n' && lines:
			s.off++
			s.line++
		case c == ';':
			for s.off < len(s.data) && s.data[s.off] != '\n' {
				s.off++
			}
		default:
			return
		}
	}
}

func (s *scanner) peek() byte {
	if s.off < len(s.data) {
		return s.data[s.off]
	}
	return 0
}

// nodes reads nodes up to the end of the input (depth 0) or the '}' that
// closes their parent, which it consumes.
func (s *scanner) nodes(depth int) ([]*Node, error) {
	if depth > maxDepth {
		return nil, s.fail("nodes nested deeper than %d", maxDepth)
	}
	var out []*Node
	for {
		s.skip(true)
		switch s.peek() {
		case 0:
			if depth > 0 {
				return nil, s.fail("end of file inside a node (a '}' missing)")
			}
			return out, nil
		case '}':
			if depth == 0 {
				return nil, s.fail("'}' with no node open")
			}
			s.off++
			return out, nil
		}
		n, err := s.node(depth)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
}

// node reads "Name: values [{ children }]".
func (s *scanner) node(depth int) (*Node, error) {
	start := s.off
	for s.off < len(s.data) && s.data[s.off] != ':' {
		if c := s.data[s.off]; c <= ' ' || strings.IndexByte("{},\";", c) >= 0 {
			return nil, s.fail("%q is not a node name followed by ':'", s.data[start:s.off+1])
		}
		s.off++
	}
	if s.off == len(s.data) || s.off == start {
		return nil, s.fail("a node name followed by ':' expected")
	}
	n := &Node{Name: string(s.data[start:s.off])}
	s.off++ // ':'
	s.skip(false)
	s.valuesBelow()
	for more := !s.endOfValues(); more; {
		v, err := s.value()
		if err != nil {
			return nil, fmt.Errorf("node %q: %w", n.Name, err)
		}
		n.Props = append(n.Props, v)
		s.skip(false)
		s.commaBelow()
		if s.peek() != ',' {
			if !s.endOfValues() {
				return nil, s.fail("node %q: ',' or the end of the line expected after a value", n.Name)
			}
			break
		}
		s.off++
		s.skip(true)
	}
	if s.peek() == '{' {
		s.off++
		kids, err := s.nodes(depth + 1)
		if err != nil {
			return nil, err
		}
		n.Children = kids
	}
	return n, arrayNode(n, s)
}

// valuesBelow steps onto the next line when a node's values start there
// (FBX 6.x writes "Key: " and its keys below it): a line that starts with
// a number or a string, which no node name does.
func (s *scanner) valuesBelow() {
	if s.peek() != '\n' {
		return
	}
	at, line := s.off, s.line
	s.skip(true)
	if c := s.peek(); c == '"' || c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9' {
		return
	}
	s.off, s.line = at, line
}

// commaBelow steps onto the next line when it goes on with a comma: FBX 6.x
// (Blender's exporter) breaks long value lists before the comma.
func (s *scanner) commaBelow() {
	if s.peek() != '\n' {
		return
	}
	at, line := s.off, s.line
	s.skip(true)
	if s.peek() != ',' {
		s.off, s.line = at, line
	}
}

func (s *scanner) endOfValues() bool {
	c := s.peek()
	return c == 0 || c == '\n' || c == '{' || c == '}'
}

// value reads a quoted string, a number or a bare word.
func (s *scanner) value() (any, error) {
	if s.peek() == '"' {
		end := bytes.IndexByte(s.data[s.off+1:], '"')
		if end < 0 {
			return nil, s.fail("a string with no closing quote")
		}
		v := string(s.data[s.off+1 : s.off+1+end])
		s.line += strings.Count(v, "\n")
		s.off += end + 2
		return v, nil
	}
	start := s.off
	for s.off < len(s.data) && strings.IndexByte(",{}; \t\r\n\"", s.data[s.off]) < 0 {
		s.off++
	}
	word := string(s.data[start:s.off])
	if word == "" {
		return nil, s.fail("a value expected")
	}
	return number64(word), nil
}

// number64 is word as an int64 or float64 when it is a number, else the
// word itself.
func number64(word string) any {
	if i, err := strconv.ParseInt(word, 10, 64); err == nil {
		return i
	}
	if c := word[0]; c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9' {
		if f, err := strconv.ParseFloat(word, 64); err == nil {
			return f
		}
	}
	return word
}

// arrayNode makes a 7.x array node ("*N" and a child "a" holding the
// values) one array property, typed as the binary format has it.
func arrayNode(n *Node, s *scanner) error {
	if len(n.Props) != 1 {
		return nil
	}
	count, ok := n.Props[0].(string)
	if !ok || !strings.HasPrefix(count, "*") {
		return nil
	}
	want, err := strconv.Atoi(count[1:])
	a := n.Child("a")
	if err != nil || a == nil || len(n.Children) != 1 {
		return s.fail("array node %q: want \"*count { a: values }\"", n.Name)
	}
	if len(a.Props) != want {
		return s.fail("array node %q: %d values, its count says %d", n.Name, len(a.Props), want)
	}
	arr, err := typedArray(n.Name, a.Props)
	if err != nil {
		return s.fail("array node %q: %v", n.Name, err)
	}
	n.Props, n.Children = []any{arr}, nil
	return nil
}

func typedArray(name string, vals []any) (any, error) {
	f := make([]float64, len(vals))
	ints, fits := true, true
	for i, v := range vals {
		switch x := v.(type) {
		case int64:
			f[i] = float64(x)
			fits = fits && x >= math.MinInt32 && x <= math.MaxInt32
		case float64:
			f[i], ints = x, false
		default:
			return nil, fmt.Errorf("value %d (%v) is not a number", i, v)
		}
	}
	switch {
	case name == "KeyTime":
		if !ints {
			return nil, fmt.Errorf("key times must be integers")
		}
		out := make([]int64, len(vals))
		for i, v := range vals {
			out[i] = v.(int64)
		}
		return out, nil
	case name == "KeyAttrDataFloat" && ints && fits:
		// The FBX SDK writes these floats' bits as integers (the third of
		// each four packs two 16-bit tangent weights).
		out := make([]float32, len(vals))
		for i, v := range vals {
			out[i] = math.Float32frombits(uint32(int32(v.(int64))))
		}
		return out, nil
	case name == "KeyValueFloat" || name == "KeyAttrDataFloat":
		out := make([]float32, len(f))
		for i, x := range f {
			out[i] = float32(x)
		}
		return out, nil
	case intArrays[name]:
		if !ints || !fits {
			return nil, fmt.Errorf("values must be 32-bit integers")
		}
		out := make([]int32, len(vals))
		for i, v := range vals {
			out[i] = int32(v.(int64))
		}
		return out, nil
	}
	return f, nil
}

// intArrays are the array nodes binary FBX stores as int32 ('i').
var intArrays = map[string]bool{
	"PolygonVertexIndex": true, "Edges": true, "UVIndex": true, "NormalsIndex": true, "BinormalsIndex": true,
	"TangentsIndex": true, "ColorIndex": true, "Materials": true, "Smoothing": true, "Visibility": true,
	"Indexes": true, "KeyAttrFlags": true, "KeyAttrRefCount": true, "TextureId": true,
}

// asciiVersion is FBXHeaderExtension's FBXVersion, else the version in the
// file's first comment ("; FBX 6.1.0 project file"), else 0.
func asciiVersion(data []byte, top []*Node) int {
	for _, n := range top {
		if n.Name != "FBXHeaderExtension" {
			continue
		}
		if v := n.Child("FBXVersion"); v != nil && len(v.Props) == 1 {
			if x, ok := v.Props[0].(int64); ok && x > 0 && x < 1e6 {
				return int(x)
			}
		}
	}
	head := data[:min(len(data), 256)]
	if i := bytes.Index(head, []byte("; FBX ")); i >= 0 {
		var a, b, c int
		if _, err := fmt.Sscanf(string(head[i+6:]), "%d.%d.%d", &a, &b, &c); err == nil && a < 100 && b < 10 && c < 10 {
			return a*1000 + b*100 + c*10
		}
	}
	return 0
}
