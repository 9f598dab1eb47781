package main

import (
	"fmt"
	"slices"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/training/checks"
)

// heldOutTake is one of a class's held-out takes, whole.
type heldOutTake struct {
	ID string // the clip's id; "40_07/2" for the second piece of a long take
	M  *motion.Motion
}

// realWindow is a held-out take's best window for its class's check
// (checks.Best), kept whether it passes or not: the real reference of
// "both". The windows of a run are DIR/real/features.npy's rows, in the
// order of DIR/real/takes.json, which classify.py scores like the
// generated samples.
type realWindow struct {
	Class string `json:"class"`
	Take  string `json:"take"`
	// Start is the window's first frame in the take; Frames its length:
	// the evaluation's window, or the whole take when that is shorter (its
	// features row is then held on its last frame, and lengths.json tells
	// classify.py where the motion ends).
	Start    int    `json:"start"`
	Frames   int    `json:"frames"`
	Physical bool   `json:"physical_pass"`
	Reason   string `json:"reason,omitempty"` // why the check fails
	window   *motion.Motion
}

// bestWindows finds each take's best window of window frames for the
// class's check; none for a class with no check.
func bestWindows(class string, takes []heldOutTake, window int) ([]realWindow, error) {
	if !slices.Contains(checks.Classes(), class) {
		return nil, nil
	}
	var out []realWindow
	for _, t := range takes {
		start, res, err := checks.Best(class, t.M, window)
		if err != nil {
			return nil, fmt.Errorf("%s held-out take %s: %w", class, t.ID, err)
		}
		end := min(start+window, t.M.Frames())
		if window <= 0 {
			end = t.M.Frames()
		}
		w, err := t.M.Slice(start, end)
		if err != nil {
			return nil, fmt.Errorf("%s held-out take %s: %w", class, t.ID, err)
		}
		rw := realWindow{Class: class, Take: t.ID, Start: start, Frames: end - start, Physical: res.Pass, window: w}
		if !res.Pass {
			rw.Reason = res.Reason
		}
		out = append(out, rw)
	}
	return out, nil
}

// heldOutSet is what evaluate writes to DIR/real: the best windows of
// every class's held-out takes, encoded as the generated samples are.
type heldOutSet struct {
	feats   [][]float32
	labels  []string
	lengths []int
	windows []realWindow
}

// add encodes the windows into rows of rowFrames frames, a shorter
// window's last frame repeated to fill its row.
func (s *heldOutSet) add(lay *model.Layout, ws []realWindow, rowFrames int) error {
	for _, w := range ws {
		f, err := lay.Encode(w.window)
		if err != nil {
			return fmt.Errorf("%s held-out take %s: %w", w.Class, w.Take, err)
		}
		D := lay.Dim()
		if n := len(f) / D; n < rowFrames {
			last := f[(n-1)*D:]
			for range rowFrames - n {
				f = append(f, last...)
			}
		} else if n > rowFrames {
			return fmt.Errorf("%s held-out take %s: a window of %d frames, rows hold %d", w.Class, w.Take, n, rowFrames)
		}
		s.feats, s.labels, s.lengths = append(s.feats, f), append(s.labels, w.Class), append(s.lengths, w.Frames)
		s.windows = append(s.windows, w)
	}
	return nil
}
