package project

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/motionstudio/studio/internal/atomicfile"
)

// AutosaveName is the one autosave file's name in its folder.
const AutosaveName = "autosave" + Ext + ".json"

// Save writes p to path as indented JSON with the current Version (reference
// clips' sources and the character's rig files relative to path's folder
// when they lie in it or below),
// atomically: a reader, or a crash, never sees half a file, and a failed
// save leaves the old file as it was. p must pass Validate (so that Load
// takes the file back); p itself is not changed.
func Save(path string, p *Project) error {
	data, err := Marshal(p.withSources(relativeTo(absDir(path))))
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Marshal is the project file's bytes for p (see Save).
func Marshal(p *Project) ([]byte, error) {
	c := *p
	c.Version = Version
	if err := c.Validate(); err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// Load reads a project file and holds it to Validate (reference clips'
// relative sources and rig files made absolute from its folder); the error names the
// file and what is wrong (wrapping ErrInvalid, or ErrNewerVersion for a
// file from a newer studio).
func Load(path string) (*Project, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := Unmarshal(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p.withSources(absoluteIn(absDir(path))), nil
}

// absDir is the absolute folder of path (as given when that fails).
func absDir(path string) string {
	if a, err := filepath.Abs(path); err == nil {
		path = a
	}
	return filepath.Dir(path)
}

// withSources is p with its reference clips' sources and its character's
// rig and name map files rewritten by f (p itself when none changes; the
// timeline's other data shared).
func (p *Project) withSources(f func(string) string) *Project {
	if o := p.Options; IsRigFile(o.Character) {
		o.Character = f(o.Character)
		if o.CharacterMap != "" {
			o.CharacterMap = f(o.CharacterMap)
		}
		if o.Character != p.Options.Character || o.CharacterMap != p.Options.CharacterMap {
			c := *p
			c.Options = o
			p = &c
		}
	}
	var segs []Segment
	for i, s := range p.Timeline.Segments {
		if r := s.Ref.withSource(f); r != s.Ref {
			if segs == nil {
				segs = slices.Clone(p.Timeline.Segments)
			}
			segs[i].Ref = r
		}
	}
	if segs == nil {
		return p
	}
	c := *p
	c.Timeline.Segments = segs
	return &c
}

// Unmarshal reads a project file's bytes (see Load). Options missing from
// the file take DefaultOptions, items without ids get one, constraints are
// put in order and the takes' requests made compact.
func Unmarshal(data []byte) (*Project, error) {
	// The version first: a newer file may not fit this studio's types.
	var head struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, jsonError(err)
	}
	if head.Version > Version {
		return nil, (&Project{Version: head.Version}).Validate()
	}
	p := &Project{Options: DefaultOptions()}
	if err := json.Unmarshal(data, p); err != nil {
		return nil, jsonError(err)
	}
	for i, t := range p.Takes {
		if len(t.Request) == 0 {
			continue
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, t.Request); err != nil {
			return nil, invalid("take %d: its request is not valid JSON", i+1)
		}
		p.Takes[i].Request = buf.Bytes()
	}
	p.fillIDs()
	p.Timeline.normalize()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// jsonError says in the user's terms why the bytes are not a project.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax) && syntax.Error() == "unexpected end of JSON input":
		return invalid("not a complete project file: it ends too early (it may be truncated)")
	case errors.As(err, &syntax):
		return invalid("not a project file: broken JSON at byte %d (%v)", syntax.Offset, syntax)
	case errors.As(err, &typ) && typ.Field == "":
		return invalid("not a project file: it should be a JSON object, not a JSON %s", typ.Value)
	case errors.As(err, &typ):
		want := typeWords[typ.Type.Kind()]
		if want == "" {
			want = "JSON " + typ.Type.Kind().String()
		}
		if want == "a number" && strings.HasPrefix(typ.Value, "number") {
			return invalid("not a project file: %s is %s, out of range", typ.Field, typ.Value)
		}
		return invalid("not a project file: %s should be %s, not a JSON %s", typ.Field, want, typ.Value)
	}
	return invalid("not a project file: %v", err)
}

var typeWords = map[reflect.Kind]string{
	reflect.Float64: "a number", reflect.Int: "a whole number", reflect.Int64: "a whole number",
	reflect.String: "text", reflect.Bool: "true or false", reflect.Struct: "an object", reflect.Map: "an object",
	reflect.Slice: "a list", reflect.Array: "a list",
}

// Autosave writes p to dir's one autosave file (AutosaveName), atomically,
// making dir when needed, and returns its path.
func Autosave(dir string, p *Project) (path string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("autosave: %w", err)
	}
	path = filepath.Join(dir, AutosaveName)
	if err := Save(path, p); err != nil {
		return "", fmt.Errorf("autosave: %w", err)
	}
	return path, nil
}

// Recover reads dir's autosave file after a crash. found is false (and
// err nil) when there is none; when there is one that cannot be read,
// found is true and err says why, so the studio can offer to discard it.
// saved is when it was written.
func Recover(dir string) (p *Project, saved time.Time, found bool, err error) {
	path := filepath.Join(dir, AutosaveName)
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, time.Time{}, false, nil
	}
	if err != nil {
		return nil, time.Time{}, false, err
	}
	p, err = Load(path)
	if err != nil {
		return nil, st.ModTime(), true, err
	}
	return p, st.ModTime(), true, nil
}

// ClearAutosave removes dir's autosave file, after a save or when the
// user discards it; none there is no error.
func ClearAutosave(dir string) error {
	err := os.Remove(filepath.Join(dir, AutosaveName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
