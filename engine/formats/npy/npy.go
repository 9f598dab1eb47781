// Package npy writes NumPy's NPY 1.0 format for what npyio handles slowly:
// large float32 arrays streamed from slices (npyio reflects over every
// element). The NPZ writer and the training dataset builder share it.
package npy

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Header returns an NPY format 1.0 header for a little-endian C-ordered
// array, padded with spaces so the data starts at a multiple of 64 bytes,
// as NumPy's own writer does (it lets np.load memory-map aligned data).
func Header(descr string, shape ...int) []byte {
	d := make([]byte, 0, 128)
	d = append(d, "{'descr': '"...)
	d = append(d, descr...)
	d = append(d, "', 'fortran_order': False, 'shape': ("...)
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
	const prefix = 10 // magic, version, uint16 length
	for (prefix+len(d)+1)%64 != 0 {
		d = append(d, ' ')
	}
	d = append(d, '\n')
	h := make([]byte, prefix, prefix+len(d))
	copy(h, "\x93NUMPY\x01\x00")
	binary.LittleEndian.PutUint16(h[8:], uint16(len(d)))
	return append(h, d...)
}

// WriteFloat32Rows writes the float32 matrix formed by concatenating parts (each a
// whole number of rows of width cols) as one [rows, cols] NPY array.
func WriteFloat32Rows(w io.Writer, cols int, parts [][]float32) error {
	rows := 0
	for i, p := range parts {
		if len(p)%cols != 0 {
			return fmt.Errorf("npy: part %d holds %d values, not rows of %d", i, len(p), cols)
		}
		rows += len(p) / cols
	}
	if _, err := w.Write(Header("<f4", rows, cols)); err != nil {
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

// WriteInt16Rows writes v (a whole number of rows of width cols) as one
// [rows, cols] int16 NPY array.
func WriteInt16Rows(w io.Writer, cols int, v []int16) error {
	if cols <= 0 || len(v)%cols != 0 {
		return fmt.Errorf("npy: %d values are not rows of %d", len(v), cols)
	}
	if _, err := w.Write(Header("<i2", len(v)/cols, cols)); err != nil {
		return err
	}
	buf := make([]byte, 0, 2*len(v))
	for _, x := range v {
		buf = binary.LittleEndian.AppendUint16(buf, uint16(x))
	}
	_, err := w.Write(buf)
	return err
}
