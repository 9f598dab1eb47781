package request

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/motionstudio/studio/internal/testtools"
)

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	if err := json.Unmarshal(readFile(t, path), v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// capsFile reads a capabilities body into Caps.
func capsFile(t testing.TB, path string) Caps {
	t.Helper()
	var c Caps
	readJSON(t, path, &c)
	if len(c.Models) == 0 {
		t.Fatalf("%s: no models", path)
	}
	return c
}

// nullCaps is the server that answered the fixtures: the reference SDK's
// null model (5 joints, the 1.0 core, no loop, no retargeting).
func nullCaps(t testing.TB) Caps {
	t.Helper()
	return capsFile(t, filepath.Join(testtools.MMCPData(t), "recorded", "capabilities_0_9_null.json"))
}

func asError(t testing.TB, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *request.Error", err, err)
	}
	return e
}

// jsonOf normalises a JSON value for comparison.
func jsonOf(t testing.TB, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSummary(t *testing.T) {
	long := strings.Repeat("walk ", 30)
	for _, tc := range []struct {
		segs []Segment
		want string
	}{
		{nil, "constraints only"},
		{[]Segment{{Type: SegmentText, Prompt: " a person walks "}, {Type: SegmentUnconditioned}, {Type: SegmentText, Prompt: "sits down"}},
			"a person walks → (unconditioned) → sits down"},
		{[]Segment{{Type: SegmentText, Prompt: long}}, string([]rune(strings.TrimSpace(long))[:79]) + "…"},
	} {
		r := &Request{Segments: tc.segs}
		if got := r.Summary(); got != tc.want {
			t.Errorf("Summary() = %q, want %q", got, tc.want)
		}
	}
}
