package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/assets/models"
	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/engine/jobs"
	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/nullmodel"
	"github.com/motionstudio/studio/engine/request"
)

// lockedBuffer is a log sink the handlers may write from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// wordsEngine runs the null model but reads prompts with the bundled
// model's tokenizer and word map.
func wordsEngine(t *testing.T) *engine.Engine {
	t.Helper()
	fsys, err := models.Bundle(models.DefaultID)
	if err != nil {
		t.Fatal(err)
	}
	man, err := model.LoadManifestFS(fsys)
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.NewWith(nullmodel.Caps(), func(context.Context) (engine.Backend, error) { return nullmodel.New(), nil }, jobs.Options{})
	if eng.Tokenizer, err = model.LoadTokenizer(fsys, man); err != nil {
		t.Fatal(err)
	}
	return eng
}

// wordsRequest is an MMCP request for the null model with these segments
// (an empty prompt is an unconditioned segment).
func wordsRequest(t *testing.T, prompts ...string) []byte {
	t.Helper()
	caps := nullmodel.Caps()
	r := request.Request{ProtocolVersion: "1.3", Model: caps.ID, Skeleton: caps.CanonicalSkeleton}
	for _, p := range prompts {
		s := request.Segment{Type: request.SegmentText, Prompt: p, DurationFrames: 10}
		if p == "" {
			s.Type, s.Prompt = request.SegmentUnconditioned, ""
		}
		r.Segments = append(r.Segments, s)
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// extensionWords reads MMCP_motion.words out of a glTF JSON document.
func extensionWords(t *testing.T, doc []byte) []api.Words {
	t.Helper()
	var d struct {
		Extensions struct {
			MMCP api.MotionExtension `json:"MMCP_motion"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatalf("%v: %.200s", err, doc)
	}
	return d.Extensions.MMCP.Words
}

func TestWords(t *testing.T) {
	logs := &lockedBuffer{}
	ts, _ := newTestServer(t, wordsEngine(t), Options{Logger: slog.New(slog.NewJSONHandler(logs, nil)),
		CORSOrigins: []string{"http://studio.example"}})
	want := []api.Words{
		{Segment: 0, Understood: []string{"a", "man"}, Mapped: []api.MappedWord{{From: "sprints", To: "runs", How: "relative"}},
			Ignored: []string{"xyzzy"}},
		{Segment: 2, Understood: []string{}, Mapped: []api.MappedWord{{From: "strolls", To: "walks", How: "relative"}},
			Ignored: []string{"she"}},
	}
	header := func(resp *http.Response) []api.Words {
		t.Helper()
		v := resp.Header.Get(api.HeaderWords)
		var got []api.Words
		if err := json.Unmarshal([]byte(v), &got); err != nil {
			t.Fatalf("%s: %q: %v", api.HeaderWords, v, err)
		}
		return got
	}
	body := wordsRequest(t, "A man sprints, xyzzy", "", "she strolls")

	// A single request: the header and the document's MMCP_motion.words.
	resp, data := post(t, ts.URL+"/generate", body, map[string]string{"Origin": "http://studio.example"})
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, data)
	}
	if got := header(resp); !reflect.DeepEqual(got, want) {
		t.Errorf("header %+v, want %+v", got, want)
	}
	if got := extensionWords(t, data); !reflect.DeepEqual(got, want) {
		t.Errorf("MMCP_motion.words %+v, want %+v", got, want)
	}
	if !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), api.HeaderWords) {
		t.Errorf("browsers cannot read %s: %q", api.HeaderWords, resp.Header.Get("Access-Control-Expose-Headers"))
	}
	// The generation log has one structured line per text segment.
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "api: prompt words" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 2 || lines[0]["request_id"] != resp.Header.Get("X-Request-ID") || lines[1]["segment"] != 2.0 ||
		!reflect.DeepEqual(lines[0]["mapped"], []any{"sprints→runs (relative)"}) ||
		!reflect.DeepEqual(lines[0]["ignored"], []any{"xyzzy"}) {
		t.Errorf("log lines %v\n%s", lines, logs.String())
	}

	// Asynchronous: the poll's answer says it too.
	c, _ := api.NewClient(ts.URL, "")
	resp, data = post(t, ts.URL+"/generate", body, map[string]string{"Prefer": "respond-async"})
	var a api.Accepted
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(data, &a) != nil {
		t.Fatalf("%d %s", resp.StatusCode, data)
	}
	if _, err := c.Wait(context.Background(), a.JobID, false); err != nil {
		t.Fatal(err)
	}
	resp, data = get(t, ts.URL+"/generate/jobs/"+a.JobID, nil)
	if got := header(resp); resp.StatusCode != 200 || !reflect.DeepEqual(got, want) || !reflect.DeepEqual(extensionWords(t, data), want) {
		t.Errorf("poll: %d, header %+v", resp.StatusCode, got)
	}

	// A batch: each document has its own.
	batch := []byte(`{"protocol_version": "1.3", "requests": [` + string(wordsRequest(t, "someone hops")) + `,` + string(body) + `]}`)
	resp, data = post(t, ts.URL+"/generate", batch, nil)
	var br struct {
		Results []struct {
			GLTF json.RawMessage `json:"gltf"`
		} `json:"results"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(data, &br) != nil || len(br.Results) != 2 {
		t.Fatalf("batch: %d %s", resp.StatusCode, data)
	}
	hop := []api.Words{{Segment: 0, Understood: []string{"someone"}, Mapped: []api.MappedWord{{From: "hops", To: "hop", How: "inflection"}},
		Ignored: []string{}}}
	if got := extensionWords(t, br.Results[0].GLTF); !reflect.DeepEqual(got, hop) {
		t.Errorf("batch item 0: %+v", got)
	}
	if got := extensionWords(t, br.Results[1].GLTF); !reflect.DeepEqual(got, want) {
		t.Errorf("batch item 1: %+v", got)
	}

	// kimodo-api: the header is the only place for it.
	resp, data = post(t, ts.URL+"/generate_bvh", []byte(`{"prompt": "a person jogging, zzz", "num_frames": 10}`), nil)
	kimodo := []api.Words{{Segment: 0, Understood: []string{"a", "person"}, Mapped: []api.MappedWord{{From: "jogging", To: "jog", How: "inflection"}},
		Ignored: []string{"zzz"}}}
	if got := header(resp); resp.StatusCode != 200 || !reflect.DeepEqual(got, kimodo) {
		t.Errorf("generate_bvh: %d, header %+v", resp.StatusCode, got)
	}
}

// A model without a vocabulary (the null model) says nothing about words.
func TestWordsWithoutVocabulary(t *testing.T) {
	ts, _ := newTestServer(t, nil, Options{})
	resp, data := post(t, ts.URL+"/generate", wordsRequest(t, "a person walks"), nil)
	if resp.StatusCode != 200 || resp.Header.Get(api.HeaderWords) != "" || extensionWords(t, data) != nil {
		t.Errorf("%d, header %q", resp.StatusCode, resp.Header.Get(api.HeaderWords))
	}
}

func TestWordsHeader(t *testing.T) {
	w := []api.Words{{Segment: 1, Understood: []string{"café", "𝄞"}, Mapped: []api.MappedWord{}, Ignored: []string{}}}
	rec := &headerRecorder{h: http.Header{}}
	setWordsHeader(rec, w, 0)
	v := rec.h.Get(api.HeaderWords)
	if strings.ContainsFunc(v, func(r rune) bool { return r > 0x7e || r < 0x20 }) {
		t.Fatalf("not printable ASCII: %q", v)
	}
	var back []api.Words
	if err := json.Unmarshal([]byte(v), &back); err != nil || !reflect.DeepEqual(back, w) {
		t.Fatalf("%q reads back as %+v (%v)", v, back, err)
	}
	rec = &headerRecorder{h: http.Header{}}
	setWordsHeader(rec, w, 10)
	if v := rec.h.Get(api.HeaderWords); v != "" {
		t.Errorf("over the limit: %q", v)
	}
	setWordsHeader(rec, nil, 0)
	if _, ok := rec.h[api.HeaderWords]; ok {
		t.Error("a header without readings")
	}
}

type headerRecorder struct{ h http.Header }

func (r *headerRecorder) Header() http.Header         { return r.h }
func (r *headerRecorder) Write(p []byte) (int, error) { return len(p), nil }
func (r *headerRecorder) WriteHeader(int)             {}
