package main

import (
	"fmt"
	"slices"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/training/checks"
)

// trainWindow is where a labelled train clip shows one of its classes:
// its best window for the class's check (checks.Best). classify.py --cv
// reads how many held-out takes' passing windows read as their class: the
// real reference of "both", on far more takes than the test split has.
type trainWindow struct {
	Row    int    `json:"row"` // the clip's first row in features.npy (its "start" in clips.json)
	Class  string `json:"class"`
	Start  int    `json:"start"` // frame in the clip
	Frames int    `json:"frames"`
	Pass   bool   `json:"physical_pass"`
}

// trainWindows finds, for every train clip (mirrored copies and pieces
// too), the best window of window frames of each of its classes that has
// a check.
func (d *realData) trainWindows(window int) ([]trainWindow, error) {
	checked := checks.Classes()
	var out []trainWindow
	for _, c := range d.clips {
		var classes []string
		for _, k := range c.Classes {
			if slices.Contains(checked, k) {
				classes = append(classes, k)
			}
		}
		if c.Split != "train" || len(classes) == 0 {
			continue
		}
		m, err := d.decode(c)
		if err != nil {
			return nil, err
		}
		for _, k := range classes {
			ws, err := bestWindows(k, []heldOutTake{{ID: c.ID, M: m}}, window)
			if err != nil {
				return nil, err
			}
			for _, w := range ws {
				out = append(out, trainWindow{Row: c.Start, Class: k, Start: w.Start, Frames: w.Frames, Pass: w.Physical})
			}
		}
	}
	return out, nil
}

// writeTrainWindows writes the train clips' best windows of the dataset
// in dir (on the bundled model's layout, which the builder writes) to path.
func writeTrainWindows(dir, path string) error {
	d, closeData, err := loadDataset(dir, model.DefaultLayout())
	if err != nil {
		return err
	}
	defer closeData()
	ws, err := d.trainWindows(frames)
	if err != nil {
		return err
	}
	fmt.Printf("%d best windows of train clips, %d passing their check\n", len(ws),
		len(slices.DeleteFunc(slices.Clone(ws), func(w trainWindow) bool { return !w.Pass })))
	return writeJSON(path, ws)
}
