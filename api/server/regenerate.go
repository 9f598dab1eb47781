package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/jobs"
	"github.com/motionstudio/studio/engine/request"
)

// keepQuery reads POST /generate's ?regenerate=FROM:TO&take=JOB[&sample=N]:
// redo frames [FROM, TO) of sample N (default 0) of a finished async job's
// take, keeping every other frame bit for bit (generate.Options.Keep). The
// body is the take's request again (same length and rate), usually with a
// new seed. Query parameters, as ?in_place: MMCP's options object is
// closed. Nil without ?regenerate and ?take.
func (s *Server) keepQuery(r *http.Request) (*generate.Keep, error) {
	q := r.URL.Query()
	span, take, sample := q.Get("regenerate"), q.Get("take"), q.Get("sample")
	if !q.Has("regenerate") && !q.Has("take") && !q.Has("sample") {
		return nil, nil
	}
	bad := func(msg string) error {
		return request.NewError(request.CodeInvalidRequest, msg,
			map[string]any{"regenerate": span, "take": take, "sample": sample})
	}
	if s.opts.Jobs != nil {
		// The take lives in the engine of the replica that made it, and
		// the next request may land on any replica.
		return nil, bad("regenerating a part needs the take's own server: this one shares its jobs (serve --jobs), so send it to a server without --jobs")
	}
	if span == "" || take == "" {
		return nil, bad("regenerating a part needs both ?regenerate=FROM:TO and ?take=JOB (an async job's id)")
	}
	a, b, ok := strings.Cut(span, ":")
	from, err1 := strconv.Atoi(a)
	to, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil {
		return nil, bad(fmt.Sprintf("regenerate=%q is not FROM:TO (frames, TO not included)", span))
	}
	n := 0
	if sample != "" {
		var err error
		if n, err = strconv.Atoi(sample); err != nil || n < 0 {
			return nil, bad(fmt.Sprintf("sample=%q is not a sample index", sample))
		}
	}
	j, known := s.eng.Get(take)
	switch {
	case !known:
		return nil, bad(fmt.Sprintf("no job %q: unknown, cancelled, or finished more than %s ago", take, jobs.DefaultKeepFinished))
	case j.State != jobs.Succeeded || j.Result == nil:
		return nil, bad(fmt.Sprintf("job %q has no take yet (%s)", take, j.State))
	case n >= len(j.Result.Motions):
		return nil, bad(fmt.Sprintf("job %q has %d samples, no sample %d", take, len(j.Result.Motions), n))
	}
	return &generate.Keep{Motion: j.Result.Motions[n], From: from, To: to}, nil
}

// noKeepQuery refuses ?regenerate, ?take and ?sample on a body that is not
// one MMCP request (what regenerating a part applies to).
func noKeepQuery(r *http.Request, what string) error {
	q := r.URL.Query()
	for _, k := range []string{"regenerate", "take", "sample"} {
		if q.Has(k) {
			return request.NewError(request.CodeInvalidRequest,
				fmt.Sprintf("?%s applies to one MMCP request, not %s", k, what), map[string]any{k: q.Get(k)})
		}
	}
	return nil
}
