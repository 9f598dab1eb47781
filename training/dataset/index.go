package dataset

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// ErrIndex is wrapped by every clips.csv error.
var ErrIndex = errors.New("dataset: clips.csv")

// Row is one line of the mocap folder's clips.csv: one BVH file.
type Row struct {
	File            string  // path under the mocap folder
	ID              string  // CMU trial id, subject_trial ("02_01")
	Joints, Frames  int     // as listed (informative)
	HeaderFrameTime float64 // the BVH header's Frame Time, seconds
	SourceFPS       float64 // CMU's capture rate; 0 when not listed
	Description     string  // CMU's words for the trial ("" for some)
	Category        string  // CMU's subject category
}

// HeaderFPS is the rate the file's header claims.
func (r Row) HeaderFPS() float64 {
	if !(r.HeaderFrameTime > 0) {
		return 0
	}
	return 1 / r.HeaderFrameTime
}

// TrueFPS is the rate the file's frames really are at. A conversion can
// drop frames but never invent them, so the true rate is at most the CMU
// capture rate: min(header, source). This repairs the salsa files (header
// 120, captured at 60) and keeps the honest downsampled ones (the iClone
// files at 60 and 16_01/16_02 at 30, all captured at 120). headerFPS is
// the rate the BVH reader derived from the header (it snaps 0.0083333 s to
// exactly 120); a missing source rate trusts the header.
func TrueFPS(headerFPS, sourceFPS float64) float64 {
	if sourceFPS > 0 && sourceFPS < headerFPS {
		return sourceFPS
	}
	return headerFPS
}

// takeID is a CMU trial id; rows without one (the T-pose template) are not
// takes and are skipped.
var takeID = regexp.MustCompile(`^[0-9]+_[0-9]+$`)

// IsTake reports whether the row names a CMU trial.
func (r Row) IsTake() bool { return takeID.MatchString(r.ID) }

// ReadIndex reads a clips.csv file.
func ReadIndex(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIndex, err)
	}
	defer f.Close()
	rows, err := ParseIndex(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}

// ExtraIndexes are the mocap folder's further takes, each listed by a
// clips.csv of its own whose file paths are relative to the mocap folder
// (cmu_fbx: the 1,830 takes of ../shared/mocap/cmu_fbx). Read when present.
var ExtraIndexes = []string{"cmu_fbx/clips.csv"}

// ReadIndexes reads the mocap folder's clips.csv and every ExtraIndexes
// file it has.
func ReadIndexes(mocapDir string) ([]Row, error) {
	rows, err := ReadIndex(filepath.Join(mocapDir, "clips.csv"))
	if err != nil {
		return nil, err
	}
	for _, x := range ExtraIndexes {
		p := filepath.Join(mocapDir, x)
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		more, err := ReadIndex(p)
		if err != nil {
			return nil, err
		}
		rows = append(rows, more...)
	}
	return rows, nil
}

// indexColumns are the columns the builder needs; others are ignored.
var indexColumns = []string{"file", "cmu_id", "joints", "frames", "header_frame_time", "cmu_source_fps", "description", "subject_category"}

// ParseIndex parses clips.csv content: a header line naming the columns,
// then one row per file. Empty numeric cells read as 0.
func ParseIndex(r io.Reader) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrIndex, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, c := range indexColumns {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("%w: no %q column", ErrIndex, c)
		}
	}
	var rows []Row
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrIndex, err)
		}
		get := func(c string) string {
			if i := col[c]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		row := Row{File: get("file"), ID: get("cmu_id"), Description: get("description"), Category: get("subject_category")}
		if row.File == "" {
			return nil, fmt.Errorf("%w: line %d: empty file", ErrIndex, line)
		}
		nums := []struct {
			name string
			dst  *float64
		}{{"header_frame_time", &row.HeaderFrameTime}, {"cmu_source_fps", &row.SourceFPS}}
		for _, n := range nums {
			if *n.dst, err = number(get(n.name)); err != nil {
				return nil, fmt.Errorf("%w: line %d: %s: %w", ErrIndex, line, n.name, err)
			}
		}
		for _, n := range []struct {
			name string
			dst  *int
		}{{"joints", &row.Joints}, {"frames", &row.Frames}} {
			v, err := number(get(n.name))
			if err != nil || v != math.Trunc(v) {
				return nil, fmt.Errorf("%w: line %d: %s %q is not a count", ErrIndex, line, n.name, get(n.name))
			}
			*n.dst = int(v)
		}
		rows = append(rows, row)
	}
}

// number parses a non-negative finite number; "" is 0.
func number(s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a non-negative number", s)
	}
	return v, nil
}
