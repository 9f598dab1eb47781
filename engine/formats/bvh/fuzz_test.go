package bvh

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/motionstudio/studio/engine/motion"
)

// FuzzRead feeds arbitrary bytes to the reader: it must return a motion
// that validates or an error, never panic. `go test` runs only the seeds;
// `go test -fuzz FuzzRead ./engine/formats/bvh` explores.
func FuzzRead(f *testing.F) {
	f.Add([]byte(small))
	f.Add([]byte(goodHeader + "MOTION\nFrames: 1\nFrame Time: 0.1\n1 2 3 4 5 6 7 8 9\n"))
	f.Add([]byte(goodHeader + "MOTION\nFrames: 99999999999\nFrame Time: 0.1\n1 2 3 4 5 6 7 8 9\n"))
	f.Add([]byte(goodHeader + "MOTION\nFrames: 2\nFrame Time: 1e-300\n1 2 3 4 5 6 7 8 9\n\n1e5 -0 .5 5. 0x1p3 6 7 8 9"))
	f.Add([]byte("HIERARCHY\nROOT a {\nOFFSET 0 0 0\nCHANNELS 1 Zrotation\nEnd Site foo {\nOFFSET 1 1 1\n}\n}\nMOTION\nFrames: 1\nFrame Time: 1\n45\n"))
	f.Add([]byte("HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nCHANNELS 0\n}\n"))
	f.Add([]byte("HIERARCHY\nROOT\n"))
	f.Add([]byte(""))
	f.Add([]byte("\xef\xbb\xbfHIERARCHY\r\nROOT a\r\n{\r\n"))
	var buf bytes.Buffer
	if err := Write(&buf, randomMotion(motion.SOMA77(), 2, 1), Options{Order: motion.XZY}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) && !strings.HasPrefix(err.Error(), "bvh: ") {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			if se != nil && se.Line < 1 {
				t.Fatalf("line %d", se.Line)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("accepted a motion that does not validate: %v", err)
		}
		// Whatever we accept we can write and read back.
		var out bytes.Buffer
		if err := Write(&out, m, Options{}); err != nil {
			if strings.Contains(err.Error(), "both become") {
				return // names with spaces that collide once sanitised
			}
			t.Fatalf("write: %v", err)
		}
		if _, err := Parse(out.Bytes()); err != nil {
			t.Fatalf("re-read: %v\n%s", err, out.Bytes())
		}
	})
}
