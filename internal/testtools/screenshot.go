package testtools

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"math/bits"
	"os/exec"
	"testing"
	"time"
)

// Screenshot captures the X window titled name, as the X server shows it,
// with xwd (Debian's x11-apps). Fyne's own Canvas.Capture reads the back
// buffer after the swap, which Mesa leaves blank, so tests of what a real
// window shows go through the X server instead.
func Screenshot(t testing.TB, name string) image.Image {
	t.Helper()
	xwd, err := exec.LookPath("xwd")
	if err != nil {
		Unavailable(t, "xwd not on PATH (Debian package x11-apps)")
	}
	// A title just set reaches the X server from the window's thread a moment
	// later (on a loaded machine, seconds), so a miss is tried again for a while.
	var out []byte
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		out, err = exec.Command(xwd, "-silent", "-name", name).Output()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("xwd -name %q: %v %s", name, err, stderr)
		}
	}
	img, err := DecodeXWD(out)
	if err != nil {
		t.Fatalf("xwd -name %q: %v", name, err)
	}
	return img
}

// DecodeXWD decodes a 24/32-bit TrueColor ZPixmap XWD image (what xwd
// writes for an Xvfb screen).
func DecodeXWD(data []byte) (image.Image, error) {
	const fields = 25
	if len(data) < fields*4 {
		return nil, fmt.Errorf("xwd: %d bytes, shorter than its header", len(data))
	}
	var h [fields]uint32
	for i := range h {
		h[i] = binary.BigEndian.Uint32(data[4*i:])
	}
	headerSize, version, format := h[0], h[1], h[2]
	w, ht, order, bpp, stride := int(h[4]), int(h[5]), h[7], h[11], int(h[12])
	masks := [3]uint32{h[14], h[15], h[16]}
	ncolors := int(h[19])
	if version != 7 || format != 2 || bpp != 32 || w <= 0 || ht <= 0 {
		return nil, fmt.Errorf("xwd: version %d, format %d, %d bpp, %d×%d: only 32-bit ZPixmap is read", version, format, bpp, w, ht)
	}
	off := int(headerSize) + 12*ncolors
	if off < 0 || stride < 4*w || len(data) < off+stride*ht {
		return nil, fmt.Errorf("xwd: %d bytes for %d rows of %d", len(data), ht, stride)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if order == 1 {
		bo = binary.BigEndian
	}
	img := image.NewRGBA(image.Rect(0, 0, w, ht))
	for y := 0; y < ht; y++ {
		row := data[off+y*stride:]
		for x := 0; x < w; x++ {
			p := bo.Uint32(row[4*x:])
			var c [3]uint8
			for k, m := range masks {
				if m == 0 {
					continue
				}
				c[k] = uint8((p & m) >> bits.TrailingZeros32(m))
			}
			img.SetRGBA(x, y, color.RGBA{c[0], c[1], c[2], 255})
		}
	}
	return img, nil
}
