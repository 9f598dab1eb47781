package dataset

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
)

// The NPY writer is our own: engine/formats/npz has one, but its header and
// streaming helpers are unexported and tied to its zip archive, and npyio
// reflects over every element of a value held whole. Here a 2-D float32
// array is streamed row block by row block.

// npyHeader returns an NPY 1.0 header for a little-endian C-ordered float32
// array of the given shape, padded with spaces so the data starts at a
// multiple of 64 bytes, as NumPy writes it.
func npyHeader(shape ...int) []byte {
	d := []byte("{'descr': '<f4', 'fortran_order': False, 'shape': (")
	for i, n := range shape {
		if i > 0 {
			d = append(d, ", "...)
		}
		d = strconv.AppendInt(d, int64(n), 10)
	}
	if len(shape) == 1 {
		d = append(d, ',')
	}
	d = append(d, "), }"...)
	const prefix = 10 // magic, version, uint16 header length
	for (prefix+len(d)+1)%64 != 0 {
		d = append(d, ' ')
	}
	d = append(d, '\n')
	h := make([]byte, prefix, prefix+len(d))
	copy(h, "\x93NUMPY\x01\x00")
	binary.LittleEndian.PutUint16(h[8:], uint16(len(d)))
	return append(h, d...)
}

// writeNPY writes the float32 matrix formed by concatenating parts (each a
// whole number of rows of width cols) as one [rows, cols] NPY array.
func writeNPY(w io.Writer, cols int, parts [][]float32) error {
	rows := 0
	for i, p := range parts {
		if len(p)%cols != 0 {
			return fmt.Errorf("npy: part %d holds %d values, not rows of %d", i, len(p), cols)
		}
		rows += len(p) / cols
	}
	if _, err := w.Write(npyHeader(rows, cols)); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	for _, p := range parts {
		for _, v := range p {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	_, err := w.Write(buf)
	return err
}
