package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/formats/npz"
	"github.com/motionstudio/studio/engine/request"
)

// isKimodoBody: a JSON object without protocol_version but with a prompt,
// as kimodo-api's scripts send it.
func isKimodoBody(body []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return false
	}
	_, versioned := top["protocol_version"]
	_, prompt := top["prompt"]
	return !versioned && prompt
}

// health answers kimodo-api's GET /health.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, api.Health{Status: "ok"})
}

// generateBVH answers POST /generate_bvh with the first sample as BVH.
func (s *Server) generateBVH(w http.ResponseWriter, r *http.Request) {
	body := s.readBody(w, r)
	if body != nil {
		s.generateKimodo(w, r, body, "bvh")
	}
}

// kimodoRequest turns a kimodo-api body into an MMCP request on the
// served model's own skeleton.
func (s *Server) kimodoRequest(body []byte) (*request.Request, error) {
	var k api.KimodoRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&k); err != nil {
		return nil, kimodoBodyError(err)
	}
	if k.NumFrames == 0 {
		k.NumFrames = 120
	}
	r := &request.Request{ProtocolVersion: api.ProtocolVersion, Model: s.spec.ID, Skeleton: s.spec.CanonicalSkeleton,
		Segments: []request.Segment{{Type: request.SegmentText, Prompt: k.Prompt, DurationFrames: k.NumFrames}},
		Options:  &request.Options{Seed: k.Seed, PostProcessing: k.PostProcessing}}
	if k.Steps != 0 {
		r.Options.DiffusionSteps = &k.Steps
	} else if m := s.eng.Manifest; m != nil {
		steps := m.Steps(0) // the model's own, as the CLI uses
		r.Options.DiffusionSteps = &steps
	}
	if k.FPS != 0 && k.FPS != s.spec.FPS {
		r.Timing = &request.Timing{FPS: k.FPS}
	}
	// Through MMCP's own checks, so both routes refuse alike.
	data, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return request.Decode(data, s.caps)
}

// generateKimodo runs a kimodo-api body and answers the first sample as
// NPZ (poses, trans, betas and the rest of our layout) or BVH text.
func (s *Server) generateKimodo(w http.ResponseWriter, r *http.Request, body []byte, format string) {
	req, err := s.kimodoRequest(body)
	if err != nil {
		writeError(w, r, 0, err)
		return
	}
	words := s.words(w.Header().Get("X-Request-ID"), req)
	res, err := s.run(r.Context(), "kimodo-api: "+req.Summary(), req)
	if err != nil {
		writeError(w, r, 0, err)
		return
	}
	var buf bytes.Buffer
	ct := api.MediaNPZ
	if format == "bvh" {
		ct = api.MediaBVH
		err = bvh.Write(&buf, res.Motions[0], bvh.Options{})
	} else {
		err = npz.Write(&buf, res.Motions[0], npz.Options{})
	}
	if err != nil {
		writeError(w, r, 0, request.NewError(request.CodeInternalError, fmt.Sprintf("encoding %s: %v", format, err), nil))
		return
	}
	setWordsHeader(w, words, 0) // one prompt of at most max_prompt_length: bounded
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// kimodoBodyError says what is wrong with a kimodo-api body in the field
// terms a script author knows, as a schema_validation error.
func kimodoBodyError(err error) error {
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	field, msg := "", ""
	switch {
	case errors.As(err, &typ):
		field = typ.Field
		msg = fmt.Sprintf("%s must be %s, not %s", typ.Field, jsonKind(typ.Type.Kind()), typ.Value)
	case errors.As(err, &syn):
		msg = fmt.Sprintf("the body is not JSON (at byte %d)", syn.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field = strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		msg = fmt.Sprintf("unknown field %q (kimodo-api bodies take prompt, num_frames, fps, seed, diffusion_steps, post_processing)", field)
	default:
		msg = "the body is not a kimodo-api request: " + err.Error()
	}
	loc := []any{"body"}
	if field != "" {
		loc = append(loc, field)
	}
	return request.NewError(request.CodeSchemaValidation, msg,
		map[string]any{"errors": []request.FieldError{{Type: "value_error", Loc: loc, Msg: msg}}})
}

func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.Bool:
		return "true or false"
	}
	return k.String()
}
