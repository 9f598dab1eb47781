package gltf

import (
	"errors"
	"math"
	"testing"

	"github.com/motionstudio/studio/engine/motion"
)

// Read takes back what the writers wrote: the skeleton, the frame rate and
// every key, to float32 precision, from GLB and from JSON.
func TestReadRoundTrip(t *testing.T) {
	for _, tc := range roundTripCases(t) {
		for _, mmcp := range []bool{true, false} {
			opt := tc.opt
			if mmcp {
				opt.Extensions = map[string]any{"MMCP_motion": map[string]any{"fps": tc.ms[0].FPS}}
			} else if tc.ms[0].Frames() < 2 {
				continue // no extension and one key: no frame rate (tested below)
			}
			t.Run(tc.name, func(t *testing.T) {
				got, err := Read(encode(t, tc.ms, opt, tc.binary))
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(tc.ms) {
					t.Fatalf("%d motions, want %d", len(got), len(tc.ms))
				}
				for i, want := range tc.ms {
					checkSameMotion(t, got[i], normalized(want))
				}
			})
		}
	}
}

func checkSameMotion(t *testing.T, got, want *motion.Motion) {
	t.Helper()
	if !got.Skel.SameJoints(want.Skel) {
		t.Fatalf("joints differ")
	}
	for j, w := range want.Skel.Joints { // not EndOffset, which glTF has no place for
		if g := got.Skel.Joints[j]; g.Offset != w.Offset || g.Rest.Sub(w.Rest).Len() > 1e-9 {
			t.Fatalf("joint %s rest %v %v, want %v %v", w.Name, g.Offset, g.Rest, w.Offset, w.Rest)
		}
	}
	if got.FPS != want.FPS || got.Frames() != want.Frames() {
		t.Fatalf("%d frames at %g fps, want %d at %g", got.Frames(), got.FPS, want.Frames(), want.FPS)
	}
	const tol = 1e-6
	for i, q := range want.Rot {
		if d := math.Abs(q.Dot(got.Rot[i])); d < 1-tol {
			t.Fatalf("rotation %d: %v, want %v", i, got.Rot[i], q)
		}
	}
	for i, p := range want.Root {
		if p.Sub(got.Root[i]).Len() > tol*max(1, p.Len()) {
			t.Fatalf("root %d: %v, want %v", i, got.Root[i], p)
		}
	}
	if (want.Trans == nil) != (got.Trans == nil) {
		t.Fatalf("Trans nil = %v, want %v", got.Trans == nil, want.Trans == nil)
	}
	J := want.Skel.Len()
	for i, p := range want.Trans {
		if i%J != 0 && p.Sub(got.Trans[i]).Len() > tol*max(1, p.Len()) {
			t.Fatalf("translation %d: %v, want %v", i, got.Trans[i], p)
		}
	}
}

// Documents of another layout are refused with ErrLayout, never a panic.
func TestReadRefuses(t *testing.T) {
	soma := motion.SOMA77()
	one := encode(t, []*motion.Motion{waveMotion(soma, 1, 30, 0)}, Options{NoBody: true}, false)
	tests := []struct {
		name string
		data string
		want error
	}{
		{"no frame rate", string(one), ErrLayout},
		{"no skin", `{"asset":{"version":"2.0"},"nodes":[{"name":"a"}]}`, ErrLayout},
		{"skin joint out of range", `{"asset":{"version":"2.0"},"nodes":[{"name":"a"}],"skins":[{"joints":[3]}]}`, ErrLayout},
		{"no animations", `{"asset":{"version":"2.0"},"nodes":[{"name":"a"}],"skins":[{"joints":[0]}]}`, ErrLayout},
		{"channel without sampler", `{"asset":{"version":"2.0"},"nodes":[{"name":"a"}],"skins":[{"joints":[0]}],
			"animations":[{"channels":[{"sampler":4,"target":{"node":0,"path":"rotation"}}],"samplers":[]}]}`, ErrLayout},
		{"missing accessor", `{"asset":{"version":"2.0"},"nodes":[{"name":"a"}],"skins":[{"joints":[0]}],
			"animations":[{"channels":[{"sampler":0,"target":{"node":0,"path":"rotation"}}],"samplers":[{"input":0,"output":1}]}]}`, ErrLayout},
		{"not json", `hello`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read([]byte(tc.data))
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}
