package dataset

import (
	"testing"

	"github.com/motionstudio/studio/internal/testtools"
)

// mocapRows reads the real clips.csv files of the shared mocap folder.
func mocapRows(t *testing.T) (string, []Row) {
	t.Helper()
	dir := testtools.MocapDir(t)
	rows, err := ReadIndexes(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, rows
}

func rowOf(t *testing.T, rows []Row, file string) Row {
	t.Helper()
	for _, r := range rows {
		if r.File == file {
			return r
		}
	}
	t.Fatalf("%s not in clips.csv", file)
	return Row{}
}
