package testtools

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// mmcpOwnFiles are the files of testdata/mmcp that are not copies.
var mmcpOwnFiles = map[string]bool{"README.md": true}

// TestMMCPDataMatchesShared: where the shared folder is there, the
// repository's MMCP fixtures are its mmcp/data byte for byte (its README
// aside), no file missing and none extra, so the copy cannot drift.
func TestMMCPDataMatchesShared(t *testing.T) {
	shared, ok := SharedDir(t)
	if !ok {
		if os.Getenv("MOTIONSTUDIO_SHARED") != "" {
			t.Fatalf("MOTIONSTUDIO_SHARED=%s does not exist", shared)
		}
		t.Skipf("no shared folder at %s: the copy in testdata/mmcp is not compared", shared)
	}
	src := filepath.Join(shared, "mmcp", "data")
	want, err := readTree(src, "README.md")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readTree(MMCPData(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatalf("%s holds no files", src)
	}
	for name, w := range want {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("%s: in %s, missing from testdata/mmcp (copy it)", name, src)
		case !bytes.Equal(g, w):
			t.Errorf("%s: testdata/mmcp's copy differs from %s's (copy it again)", name, src)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok && !mmcpOwnFiles[name] {
			t.Errorf("%s: in testdata/mmcp but not in %s", name, src)
		}
	}
}

// readTree reads every regular file under dir, by its slash path, leaving
// out the top-level file named skip.
func readTree(dir, skip string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == skip {
			return err
		}
		data, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = data
		return err
	})
	return out, err
}
