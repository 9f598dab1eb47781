package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/engine"
)

// brokenFS fails to open one name (a file, or a folder to list) while bad
// is set.
type brokenFS struct {
	fs.FS
	mu  sync.Mutex
	bad string
}

func (b *brokenFS) Open(name string) (fs.File, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if name == b.bad {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return b.FS.Open(name)
}

func (b *brokenFS) heal() {
	b.mu.Lock()
	b.bad = ""
	b.mu.Unlock()
}

var bundle = fstest.MapFS{
	"model.json":      {Data: []byte(`{"id":"x"}`)},
	"onnx/denoiser.o": {Data: []byte("weights")},
}

func TestBundleHash(t *testing.T) {
	good, err := bundleHash(bundle)
	if err != nil || len(good) != 64 {
		t.Fatalf("hash %q, %v", good, err)
	}
	for _, tc := range []struct {
		name string
		fsys fs.FS
		path string // where it fails; "" for none
	}{
		{"no bundle", nil, ""},
		{"the same files", fstest.MapFS{"onnx/denoiser.o": bundle["onnx/denoiser.o"], "model.json": bundle["model.json"]}, ""},
		{"a file that cannot be read", &brokenFS{FS: bundle, bad: "onnx/denoiser.o"}, "onnx/denoiser.o"},
		{"a folder that cannot be listed", &brokenFS{FS: bundle, bad: "onnx"}, "onnx"},
		{"a root that cannot be listed", &brokenFS{FS: bundle, bad: "."}, "."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := bundleHash(tc.fsys)
			if tc.path == "" {
				if want := map[bool]string{true: "", false: good}[tc.fsys == nil]; err != nil || got != want {
					t.Fatalf("hash %q, %v; want %q", got, err, want)
				}
				return
			}
			var he *BundleHashError
			if got != "" || !errors.As(err, &he) || he.Path != tc.path || !errors.Is(err, fs.ErrPermission) {
				t.Fatalf("hash %q, error %v; want a BundleHashError at %s wrapping the cause", got, err, tc.path)
			}
		})
	}
}

// A bundle that cannot be hashed is logged, not silently reported as
// having no hash, and is hashed once it can be.
func TestMetadataLogsAnUnhashableBundle(t *testing.T) {
	eng, err := engine.New(engine.Options{Model: "null"})
	if err != nil {
		t.Fatal(err)
	}
	broken := &brokenFS{FS: bundle, bad: "model.json"}
	eng.Files = broken
	var logs bytes.Buffer
	ts, _ := newTestServer(t, eng, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	metadata := func() api.Metadata {
		var md api.Metadata
		if _, data := get(t, ts.URL+"/v1/metadata", nil); json.Unmarshal(data, &md) != nil {
			t.Fatalf("metadata %s", data)
		}
		return md
	}
	if md := metadata(); md.Model.SHA256 != "" {
		t.Fatalf("sha256 %q of a bundle that cannot be read", md.Model.SHA256)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "model.json") {
		t.Fatalf("no error logged: %q", logs.String())
	}
	broken.heal()
	want, _ := bundleHash(bundle)
	if md := metadata(); md.Model.SHA256 != want {
		t.Fatalf("sha256 %q once readable, want %q", md.Model.SHA256, want)
	}
}
