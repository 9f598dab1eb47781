package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/motionstudio/studio/engine/request"
)

// strengthQuery reads POST /generate's ?reference_strength=: how closely
// the take follows each motion_reference clip, 0 to 1 (the engine's
// generate.DefaultReferenceStrength when absent). One number applies to
// every reference segment; a comma list gives one per reference segment,
// in order. A query parameter, as ?in_place: MMCP's segment keys are
// closed. It returns the strengths per reference segment (nil when
// absent), to set with setStrengths.
func strengthQuery(r *http.Request, req *request.Request) ([]float64, error) {
	q := r.URL.Query()
	if !q.Has("reference_strength") {
		return nil, nil
	}
	v := q.Get("reference_strength")
	bad := func(msg string) error {
		return request.NewError(request.CodeInvalidRequest, msg, map[string]any{"reference_strength": v})
	}
	refs := 0
	for _, s := range req.Segments {
		if s.Type == request.SegmentMotionReference {
			refs++
		}
	}
	if refs == 0 {
		return nil, bad("?reference_strength applies to motion_reference segments, and the request has none")
	}
	parts := strings.Split(v, ",")
	if len(parts) != 1 && len(parts) != refs {
		return nil, bad(fmt.Sprintf("reference_strength=%q gives %d strengths for %d motion_reference segments: give one for all, or one each", v, len(parts), refs))
	}
	out := make([]float64, refs)
	for i := range out {
		p := strings.TrimSpace(parts[min(i, len(parts)-1)])
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || !(f >= 0 && f <= 1) {
			return nil, bad(fmt.Sprintf("reference_strength=%q: %q is not a number from 0 to 1", v, p))
		}
		out[i] = f
	}
	return out, nil
}

// setStrengths gives req's motion_reference segments, in order, the
// strengths vs (nil: leaves them as they are).
func setStrengths(req *request.Request, vs []float64) {
	if vs == nil {
		return
	}
	i := 0
	for k := range req.Segments {
		if req.Segments[k].Type == request.SegmentMotionReference && i < len(vs) {
			v := vs[i]
			req.Segments[k].Strength = &v
			i++
		}
	}
}

// noStrengthQuery refuses ?reference_strength on a body that is not one
// MMCP request (its reference segments would be ambiguous).
func noStrengthQuery(r *http.Request, what string) error {
	if q := r.URL.Query(); q.Has("reference_strength") {
		return request.NewError(request.CodeInvalidRequest,
			"?reference_strength applies to one MMCP request, not "+what, map[string]any{"reference_strength": q.Get("reference_strength")})
	}
	return nil
}
