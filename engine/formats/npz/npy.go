package npz

import (
	"archive/zip"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"time"

	"codeberg.org/sbinet/npyio/npy"

	npyfmt "github.com/motionstudio/studio/engine/formats/npy"
)

// chunkSize is the streaming buffer: big enough that the per-write cost of
// the zip layers vanishes, small enough to stay in cache.
const chunkSize = 256 << 10

// modified is every entry's timestamp: a fixed valid DOS date makes the
// archive a pure function of the motion.
var modified = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// archive writes .npy entries into a zip container, as np.savez does.
type archive struct {
	zw     *zip.Writer
	method uint16
	encs   []*encoder // one per worker
	bufs   [][]byte   // chunk buffers, two per worker
}

func newArchive(w io.Writer, compress bool, encs []*encoder) *archive {
	a := &archive{zw: zip.NewWriter(w), method: zip.Store, encs: encs}
	if compress {
		a.method = zip.Deflate
		// BestSpeed: on exported clips zlib's default level 6 saved no more
		// (91.7% vs 91.8% of the stored size) and took 5× as long.
		a.zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(w, flate.BestSpeed)
		})
	}
	return a
}

func (a *archive) create(key string) (io.Writer, error) {
	w, err := a.zw.CreateHeader(&zip.FileHeader{Name: key + ".npy", Method: a.method, Modified: modified})
	if err != nil {
		return nil, fmt.Errorf("npz: %s: %w", key, err)
	}
	return w, nil
}

// value writes a small array or scalar through npyio, which discovers the
// dtype and shape from the Go value (strings become '<U' arrays).
func (a *archive) value(key string, v any) error {
	w, err := a.create(key)
	if err != nil {
		return err
	}
	if err := npy.Write(w, v); err != nil {
		return fmt.Errorf("npz: %s: %w", key, err)
	}
	return nil
}

// rowFunc encodes row i of an array into dst using e's scratch space.
type rowFunc func(e *encoder, i int, dst []byte)

// array streams a C-ordered array of rows×rowBytes bytes that fill encodes.
// npyio is not used here: it discovers shapes by reflecting over every
// element and writes one element per call, which takes about a second per
// (10000, 77, 3) array. Rows are encoded in parallel, one chunk per
// encoder, while the previous round of chunks is written.
func (a *archive) array(key, descr string, shape []int, fill rowFunc) error {
	rows, rowBytes := shape[0], itemSize(descr)
	for _, n := range shape[1:] {
		rowBytes *= n
	}
	w, err := a.create(key)
	if err != nil {
		return err
	}
	if _, err := w.Write(npyfmt.Header(descr, shape...)); err != nil {
		return fmt.Errorf("npz: %s: %w", key, err)
	}
	per := max(1, chunkSize/max(rowBytes, 1)) // rows per chunk
	nw := min(len(a.encs), (rows+per-1)/per)
	if nw == 0 {
		return nil
	}
	round := nw * per // rows per round
	swap := bigEndian && descr == "<f4"
	var sets [2][][]byte
	for s := range sets {
		sets[s] = make([][]byte, nw)
		for k := range nw {
			sets[s][k] = a.chunk(s*len(a.encs)+k, per*rowBytes)
		}
	}
	// start encodes the round of chunks beginning at row r0 into set s.
	start := func(r0, s int) *sync.WaitGroup {
		var wg sync.WaitGroup
		for k := range nw {
			lo := r0 + k*per
			hi := min(lo+per, rows)
			if lo >= hi {
				sets[s][k] = sets[s][k][:0]
				continue
			}
			buf := sets[s][k][:(hi-lo)*rowBytes]
			sets[s][k] = buf
			e := a.encs[k]
			wg.Go(func() {
				for i := lo; i < hi; i++ {
					fill(e, i, buf[(i-lo)*rowBytes:(i-lo+1)*rowBytes])
				}
				if swap {
					swap32(buf)
				}
			})
		}
		return &wg
	}
	pending := start(0, 0)
	for r0, s := 0, 0; r0 < rows; r0, s = r0+round, 1-s {
		pending.Wait()
		if r0+round < rows {
			pending = start(r0+round, 1-s)
		} else {
			pending = &sync.WaitGroup{}
		}
		for _, buf := range sets[s] {
			if _, err := w.Write(buf); err != nil {
				pending.Wait()
				return fmt.Errorf("npz: %s: %w", key, err)
			}
		}
	}
	return nil
}

// chunk returns reusable buffer k with room for n bytes.
func (a *archive) chunk(k, n int) []byte {
	for len(a.bufs) <= k {
		a.bufs = append(a.bufs, nil)
	}
	if cap(a.bufs[k]) < n {
		a.bufs[k] = make([]byte, n)
	}
	return a.bufs[k][:n]
}

func (a *archive) close() error {
	if err := a.zw.Close(); err != nil {
		return fmt.Errorf("npz: %w", err)
	}
	return nil
}

// itemSize is the byte size of the dtypes array writes.
func itemSize(descr string) int {
	if descr == "|b1" {
		return 1
	}
	return 4 // "<f4"
}

// bigEndian reports a host whose float32s need swapping to "<f4".
var bigEndian = binary.NativeEndian.Uint16([]byte{0, 1}) == 1

// swap32 reverses the bytes of every 4-byte word of b.
func swap32(b []byte) {
	for i := 0; i+4 <= len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
}
