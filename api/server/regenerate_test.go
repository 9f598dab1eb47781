package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"

	gltflib "github.com/qmuntal/gltf"
	"github.com/qmuntal/gltf/modeler"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/engine/request"
)

// POST /generate?regenerate=FROM:TO&take=JOB redoes frames [FROM, TO) of an
// async job's take: on the bundled model, sync and async, every keyframe
// outside the range (every joint's rotation, the root's translation) is
// the take's, bit for bit as written, and the range differs. Bad
// parameters, a range the request cannot hold, a loop, and a batch are
// 400 invalid_request, never a 500.
func TestRegenerateRange(t *testing.T) {
	ts, s := bundledServer(t)
	req := bundledExample(t, s, "request_minimal_text.json")
	req["options"] = map[string]any{"diffusion_steps": 4, "seed": 5}
	body, _ := json.Marshal(req)
	resp, data := post(t, ts.URL+"/generate", body, map[string]string{"Prefer": "respond-async"})
	var acc api.Accepted
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(data, &acc) != nil {
		t.Fatalf("%d %s", resp.StatusCode, data)
	}
	c, _ := api.NewClient(ts.URL, "")
	doc, err := c.Wait(context.Background(), acc.JobID, false)
	if err != nil {
		t.Fatal(err)
	}
	take := keyframes(t, doc)
	frames := len(take["root translation"])
	if frames < 60 {
		t.Fatalf("%d frames", frames)
	}
	req["options"] = map[string]any{"diffusion_steps": 4, "seed": 9}
	body, _ = json.Marshal(req)
	for _, tc := range []struct {
		name     string
		from, to int
		async    bool
	}{{"middle, sync", 30, 60, false}, {"start, async", 0, 30, true}, {"end, sync", frames - 20, frames, false}} {
		t.Run(tc.name, func(t *testing.T) {
			u := fmt.Sprintf("%s/generate?regenerate=%d:%d&take=%s", ts.URL, tc.from, tc.to, acc.JobID)
			var doc []byte
			if tc.async {
				resp, data := post(t, u, body, map[string]string{"Prefer": "respond-async"})
				var a api.Accepted
				if resp.StatusCode != http.StatusAccepted || json.Unmarshal(data, &a) != nil {
					t.Fatalf("%d %s", resp.StatusCode, data)
				}
				if doc, err = c.Wait(context.Background(), a.JobID, false); err != nil {
					t.Fatal(err)
				}
			} else {
				resp, data := post(t, u, body, nil)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%d %.300s", resp.StatusCode, data)
				}
				doc = data
			}
			got := keyframes(t, doc)
			changed := false
			for ch, keys := range take {
				if len(got[ch]) != frames {
					t.Fatalf("%s: %d keys, want %d", ch, len(got[ch]), frames)
				}
				for f := range frames {
					same := slices.Equal(got[ch][f], keys[f])
					if f < tc.from || f >= tc.to {
						if !same {
							t.Fatalf("%s: kept frame %d changed: %v, was %v", ch, f, got[ch][f], keys[f])
						}
					} else if !same {
						changed = true
					}
				}
			}
			if !changed {
				t.Fatal("the range was not regenerated")
			}
		})
	}
	loop, _ := json.Marshal(map[string]any{"protocol_version": req["protocol_version"], "model": req["model"],
		"skeleton": req["skeleton"], "segments": req["segments"], "options": map[string]any{"diffusion_steps": 4, "loop": true}})
	batch, _ := json.Marshal(map[string]any{"protocol_version": req["protocol_version"], "requests": []any{req}})
	for _, tc := range []struct {
		name, query string
		body        []byte
	}{
		{"no take", "regenerate=10:20", body},
		{"no range", "take=" + acc.JobID, body},
		{"not a range", "regenerate=10&take=" + acc.JobID, body},
		{"range past the end", fmt.Sprintf("regenerate=10:%d&take=%s", frames+5, acc.JobID), body},
		{"whole take", fmt.Sprintf("regenerate=0:%d&take=%s", frames, acc.JobID), body},
		{"unknown job", "regenerate=10:20&take=nosuchjob", body},
		{"no such sample", "regenerate=10:20&sample=3&take=" + acc.JobID, body},
		{"negative sample", "regenerate=10:20&sample=-1&take=" + acc.JobID, body},
		{"with a loop", "regenerate=10:20&take=" + acc.JobID, loop},
		{"a batch", "regenerate=10:20&take=" + acc.JobID, batch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, data := post(t, ts.URL+"/generate?"+tc.query, tc.body, nil)
			if code := envelope(t, resp, data); resp.StatusCode != http.StatusBadRequest || code != request.CodeInvalidRequest {
				t.Fatalf("%d %s, want 400 invalid_request: %s", resp.StatusCode, code, data)
			}
		})
	}
}

// keyframes are a glTF answer's animation outputs by target ("node path"),
// one []float32 per key.
func keyframes(t *testing.T, data []byte) map[string][][]float32 {
	t.Helper()
	doc := new(gltflib.Document)
	if err := gltflib.NewDecoder(bytes.NewReader(data)).Decode(doc); err != nil || len(doc.Animations) != 1 {
		t.Fatalf("glTF: %v", err)
	}
	out := map[string][][]float32{}
	a := doc.Animations[0]
	for _, ch := range a.Channels {
		v, err := modeler.ReadAccessor(doc, doc.Accessors[a.Samplers[ch.Sampler].Output], nil)
		if err != nil {
			t.Fatal(err)
		}
		name := doc.Nodes[*ch.Target.Node].Name + " " + ch.Target.Path.String()
		var keys [][]float32
		switch v := v.(type) {
		case [][4]float32:
			for _, k := range v {
				keys = append(keys, k[:])
			}
		case [][3]float32:
			for _, k := range v {
				keys = append(keys, k[:])
			}
		default:
			t.Fatalf("%s: %T", name, v)
		}
		if ch.Target.Path == gltflib.TRSTranslation {
			name = "root translation"
		}
		out[name] = keys
	}
	return out
}
