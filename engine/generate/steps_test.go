package generate

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/motionstudio/studio/engine/request"
)

// A request that leaves diffusion_steps unset (the studio's "0: the
// model's", the CLI without --steps) runs the bundle's default_steps; a
// client's MMCP request without it was given MMCP's 100 when decoded.
func TestRunDefaultSteps(t *testing.T) {
	m := bankModel(t)
	caps := Caps(m)
	built := func(steps *int) func(*testing.T) *request.Request {
		return func(t *testing.T) *request.Request {
			r := &request.Request{ProtocolVersion: "1.3", Model: caps.ID, Skeleton: caps.CanonicalSkeleton,
				Segments: []request.Segment{text("a person walks", 30)}, Options: &request.Options{Seed: ptr(int64(1)), DiffusionSteps: steps}}
			if err := r.Validate(request.Caps{Models: []request.ModelCaps{caps}}); err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	// The same request as a client sends it: JSON, through MMCP's decoder.
	mmcp := func(t *testing.T) *request.Request {
		body, err := json.Marshal(built(nil)(t))
		if err != nil {
			t.Fatal(err)
		}
		r, err := request.Decode(body, request.Caps{Models: []request.ModelCaps{caps}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	cases := []struct {
		name string
		req  func(*testing.T) *request.Request
		want int
	}{
		{"unset", built(nil), m.Manifest.Diffusion.DefaultSteps},
		{"given", built(ptr(7)), 7},
		{"MMCP request without steps", mmcp, request.DefaultDiffusionSteps},
	}
	if m.Manifest.Diffusion.DefaultSteps == request.DefaultDiffusionSteps {
		t.Fatal("the bundle's default_steps is MMCP's: this test cannot tell them apart")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Run(context.Background(), m, c.req(t), Options{NoRetrieval: true})
			if err != nil {
				t.Fatal(err)
			}
			if res.Steps != c.want {
				t.Fatalf("%d steps, want %d", res.Steps, c.want)
			}
		})
	}
}
