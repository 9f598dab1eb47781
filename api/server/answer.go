package server

import (
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/motion"
	travel "github.com/motionstudio/studio/engine/post" // not post: the tests have a post()
	"github.com/motionstudio/studio/engine/request"
)

// answer is how a request's result is written back: at the request's
// rate, with how its prompts were read, and in place when the client asked.
type answer struct {
	fps     float64
	words   []api.Words
	loop    bool // options.loop, echoed in each trajectory
	inPlace bool // ?in_place=true: the root's travel taken out
}

// answerOf reads how req's result is to be written (and sets the words
// header's source: s.words).
func (s *Server) answerOf(w http.ResponseWriter, req *request.Request, inPlace bool) answer {
	return s.answerFor(w.Header().Get("X-Request-ID"), req, inPlace)
}

// answerFor is answerOf for the request with id reqID (a stored job's
// submission, answered by a worker later).
func (s *Server) answerFor(reqID string, req *request.Request, inPlace bool) answer {
	o := req.Options
	return answer{fps: req.FPS(s.spec.FPS), words: s.words(reqID, req), loop: o != nil && o.Loop != nil && *o.Loop, inPlace: inPlace}
}

// inPlaceQuery reads POST /generate's ?in_place= (a boolean; absent is
// false). It is a query parameter, not an option: MMCP's options object is
// closed, and the travel goes back as MMCP's trajectory either way.
func inPlaceQuery(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("in_place")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, request.NewError(request.CodeInvalidRequest, fmt.Sprintf("in_place=%q is not true or false", v),
			map[string]any{"in_place": v})
	}
	return b, nil
}

// motions are the result's samples as answered (in place when asked) and
// the travel of each before any was taken out.
func (a answer) motions(res *generate.Result) ([]*motion.Motion, []travel.Travel) {
	out := make([]*motion.Motion, len(res.Motions))
	travels := make([]travel.Travel, len(res.Motions))
	for i, m := range res.Motions {
		travels[i], out[i] = travel.TravelOf(m), m
		if a.inPlace {
			out[i] = travel.InPlace(m)
		}
	}
	return out, travels
}

// stillBelow is the path length (m) under which a sample is said not to
// travel.
const stillBelow = 0.01

// trajectory is MMCP's samples[].trajectory of a travel at fps.
func trajectory(tr travel.Travel, fps float64, loop bool) *api.Trajectory {
	n := len(tr.Position)
	t := &api.Trajectory{Model: "sampled", Loop: loop, Position: tr.Position, Yaw: tr.Yaw, Params: map[string]any{}}
	dist := tr.Distance()
	if n < 2 || dist < stillBelow && math.Abs(tr.Yaw[n-1]) < 1e-3 {
		t.Model = "still"
	}
	if n >= 2 && fps > 0 {
		t.Params["speed"] = dist * fps / float64(n-1)
		t.Params["turned_deg"] = tr.Yaw[n-1] * 180 / math.Pi
	}
	return t
}
