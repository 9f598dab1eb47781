package model

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// Offsets resolves every block by name once, whatever order the bundle
// lists them in, and agrees with Block.
func TestLayoutOffsets(t *testing.T) {
	names := DefaultPredictedJoints()
	reordered := DefaultFeatures(names)
	slices.Reverse(reordered.Blocks)
	cases := []struct {
		name string
		f    Features
		want Offsets
	}{
		{"default", DefaultFeatures(names), Offsets{RootPos: Span{0, 3}, Heading: Span{3, 2}, LocalJoints: Span{5, 66},
			Rotations: Span{71, 132}, Velocities: Span{203, 66}, Contacts: Span{269, 4}}},
		{"reversed", reordered, Offsets{Contacts: Span{0, 4}, Velocities: Span{4, 66}, Rotations: Span{70, 132},
			LocalJoints: Span{202, 66}, Heading: Span{268, 2}, RootPos: Span{270, 3}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, err := NewLayout(DefaultFPS, names, c.f)
			if err != nil {
				t.Fatal(err)
			}
			got := l.Offsets()
			if got != c.want {
				t.Fatalf("offsets %+v, want %+v", got, c.want)
			}
			for name, sp := range map[string]Span{BlockSmoothRootPos: got.RootPos, BlockRootHeading: got.Heading,
				BlockLocalPositions: got.LocalJoints, BlockGlobalRotations: got.Rotations, BlockVelocities: got.Velocities,
				BlockFootContacts: got.Contacts} {
				if off, size, _ := l.Block(name); off != sp.Off || size != sp.Size {
					t.Errorf("%s: offsets say %+v, Block says %d, %d", name, sp, off, size)
				}
			}
		})
	}
}

// A features section lacking a block the layout needs is refused with a
// bundle error that names it, not resolved to offset 0.
func TestResolveOffsetsMissingBlock(t *testing.T) {
	for _, drop := range BlockNames {
		t.Run(drop, func(t *testing.T) {
			blocks := slices.DeleteFunc(DefaultFeatures(DefaultPredictedJoints()).Blocks, func(b Block) bool { return b.Name == drop })
			_, err := resolveOffsets(blocks)
			var be *BundleError
			if !errors.As(err, &be) || be.Key != "features.blocks" || !strings.Contains(err.Error(), `"`+drop+`" is missing`) {
				t.Fatalf("err = %v, want a features.blocks error naming %q", err, drop)
			}
		})
	}
}

// Steps: 0 leaves the count to the bundle; anything else stands (for the
// sampler's checks to refuse when out of range).
func TestManifestSteps(t *testing.T) {
	m := &Manifest{Diffusion: Diffusion{DefaultSteps: 50}}
	for _, c := range []struct{ asked, want int }{{0, 50}, {1, 1}, {100, 100}, {-3, -3}} {
		if got := m.Steps(c.asked); got != c.want {
			t.Errorf("Steps(%d) = %d, want %d", c.asked, got, c.want)
		}
	}
}
