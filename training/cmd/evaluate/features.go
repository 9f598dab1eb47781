package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	npyio "codeberg.org/sbinet/npyio/npy"
)

// featureFile reads rows of the dataset's features.npy (float32 [N, D],
// C order) where they lie on disk: the 8 h dataset's file is 1.9 GB, and
// the evaluation decodes a few hundred windows of it, so reading it whole
// (as npyio.Read does, element by element) cost minutes and gigabytes.
type featureFile struct {
	r      io.ReaderAt
	offset int64 // where the data starts
	rows   int
	dim    int
}

// countingReader counts the bytes read through it: npyio's header reader
// reads exactly the header, so the count is where the data starts.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// newFeatureFile reads the header of an NPY file of little-endian float32
// rows and checks the data is all there (size is the file's length).
func newFeatureFile(r io.ReaderAt, size int64) (*featureFile, error) {
	cr := &countingReader{r: io.NewSectionReader(r, 0, size)}
	rd, err := npyio.NewReader(cr)
	if err != nil {
		return nil, err
	}
	h := rd.Header.Descr
	if strings.Trim(h.Type, `'"`) != "<f4" || h.Fortran || len(h.Shape) != 2 {
		return nil, fmt.Errorf("want little-endian float32 [rows, dim] in C order, have %s %v (fortran %v)", h.Type, h.Shape, h.Fortran)
	}
	f := &featureFile{r: r, offset: cr.n, rows: h.Shape[0], dim: h.Shape[1]}
	if need := f.offset + 4*int64(f.rows)*int64(f.dim); size < need {
		return nil, fmt.Errorf("%d bytes, the header's %v rows need %d", size, h.Shape, need)
	}
	return f, nil
}

func openFeatures(path string) (*featureFile, *os.File, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, nil, err
	}
	f, err := newFeatureFile(file, st.Size())
	if err != nil {
		file.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, file, nil
}

// read returns rows [start, start+n).
func (f *featureFile) read(start, n int) ([]float32, error) {
	if start < 0 || n < 0 || start+n > f.rows {
		return nil, fmt.Errorf("rows %d..%d outside the file's %d", start, start+n, f.rows)
	}
	out := make([]float32, n*f.dim)
	if n == 0 {
		return out, nil
	}
	buf := make([]byte, 4*n*f.dim)
	if _, err := f.r.ReadAt(buf, f.offset+4*int64(start)*int64(f.dim)); err != nil {
		return nil, err
	}
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
	}
	return out, nil
}
