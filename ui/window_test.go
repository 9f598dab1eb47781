package ui

import (
	"image"
	"image/color"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

func TestStudioWindowShowsTheSkeleton(t *testing.T) {
	a := test.NewTempApp(t)
	w := NewStudioWindow(a)
	defer w.Close()
	w.Resize(fyne.NewSize(400, 600))
	img := w.Canvas().Capture()
	// The bones are drawn in their own colour: count those pixels in the
	// upper (head, arms) and lower (legs) halves of the figure.
	upper, lower := boneCount(img, 0, img.Bounds().Dy()/2), boneCount(img, img.Bounds().Dy()/2, img.Bounds().Dy())
	if upper < 100 || lower < 100 {
		t.Fatalf("skeleton not drawn: %d bone pixels in the upper half, %d in the lower", upper, lower)
	}
	test.AssertObjectRendersToMarkup(t, "studio_window.xml", w.Canvas().Content())
}

func boneCount(img image.Image, y0, y1 int) int {
	n := 0
	for y := y0; y < y1; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			c := color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0}
			if c.R > 0xc0 && c.G > 0x80 && c.G < 0xd0 && c.B < 0x80 {
				n++
			}
		}
	}
	return n
}
