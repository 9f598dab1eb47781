package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/motionstudio/studio/engine/formats/export"
	"github.com/motionstudio/studio/engine/request"
)

// batchLine is one request of a batch file: its body as the server gets
// it, where its result goes, or why it cannot be sent.
type batchLine struct {
	n      int    // line number, from 1
	body   []byte // the MMCP request, without our "output" key
	path   string // the output file (in --out); samples > 1 of bvh/npz/fbx add _0, _1, …
	format string // bvh, npz, fbx, glb, gltf or json (the glTF JSON document)
	paths  []string
	err    error
}

// outputKey is the one key a line may add to an MMCP request: the output
// file, relative to --out, whose extension names the format.
const outputKey = "output"

// readBatchFile reads a JSONL file: one request per line; blank lines and
// lines starting with # or // are skipped. A line that is no JSON object or
// names a bad output gets its error and the others go on.
func readBatchFile(file, outDir, format string) ([]*batchLine, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	stem := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), request.MaxBodyBytes)
	var lines []*batchLine
	taken := map[string]int{} // output path → the line that has it
	for n := 1; sc.Scan(); n++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 || text[0] == '#' || bytes.HasPrefix(text, []byte("//")) {
			continue
		}
		l := parseBatchLine(n, text, outDir, fmt.Sprintf("%s-%04d.%s", stem, n, format))
		for _, p := range l.paths {
			if prev, ok := taken[p]; ok && l.err == nil {
				l.err = fmt.Errorf("output %s is also line %d's", p, prev)
			}
			taken[p] = n
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return lines, nil
}

// parseBatchLine reads one line; defaultName is its output without an
// "output" key.
func parseBatchLine(n int, text []byte, outDir, defaultName string) *batchLine {
	l := &batchLine{n: n, body: append([]byte(nil), text...)}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(text, &top); err != nil || top == nil {
		l.err = fmt.Errorf("not a JSON object: %v", firstLine(errOr(err, errors.New("null"))))
		return l
	}
	name := defaultName
	if raw, ok := top[outputKey]; ok {
		if err := json.Unmarshal(raw, &name); err != nil {
			l.err = fmt.Errorf("%q: want a file name", outputKey)
			return l
		}
		delete(top, outputKey)
		l.body, _ = json.Marshal(top) // a map of raw values always marshals
	}
	if !filepath.IsLocal(name) {
		l.err = fmt.Errorf("output %q: want a file name inside --out (no absolute path, no ..)", name)
		return l
	}
	if l.format, l.err = batchFormat(name); l.err != nil {
		return l
	}
	l.path = filepath.Join(outDir, name)
	l.paths = []string{l.path}
	if l.format == export.BVH || l.format == export.NPZ || l.format == export.FBX {
		l.paths = export.Names(l.path, numSamples(top)) // one file per sample, as generate -o writes them
	}
	return l
}

func errOr(err, other error) error {
	if err != nil {
		return err
	}
	return other
}

// batchFormat is the format of an output name: export's (bvh, npz, glb,
// gltf, fbx), or json, MMCP's answer as it comes (a glTF JSON document).
func batchFormat(name string) (string, error) {
	if strings.EqualFold(filepath.Ext(name), ".json") {
		return "json", nil
	}
	f, err := export.Format(name)
	if err != nil {
		return "", fmt.Errorf("output %q: unknown format %q (want .glb, .gltf, .json, .bvh, .npz or .fbx)", name, filepath.Ext(name))
	}
	return f, nil
}

// numSamples is the request's options.num_samples, 1 when absent or not a
// count MMCP allows (the server then refuses the request anyway).
func numSamples(top map[string]json.RawMessage) int {
	var o struct {
		NumSamples int `json:"num_samples"`
	}
	if json.Unmarshal(top["options"], &o) != nil || o.NumSamples < 1 || o.NumSamples > request.MaxNumSamples {
		return 1
	}
	return o.NumSamples
}

// written reports whether every output of the line is there already: a
// rerun skips it (outputs are renamed into place whole, so one that exists
// is complete).
func (l *batchLine) written() bool {
	for _, p := range l.paths {
		if _, err := os.Stat(p); err != nil {
			return false
		}
	}
	return len(l.paths) > 0
}
