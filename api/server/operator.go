package server

import (
	"context"
	_ "embed"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/motionstudio/studio/api"
)

// live answers GET /v1/health/live: the process is serving.
func (s *Server) live(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, api.Health{Status: "live"})
}

// ready answers GET /v1/health/ready: 200 once the model is loaded, 503
// while it loads (or after it failed to).
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	st := s.eng.Stats().Model
	if s.opts.Jobs != nil && !s.storeUp.Load() {
		why, _ := s.storeErr.Load().(string)
		if why == "" {
			why = "not reached yet"
		}
		retryAfter(w, time.Second)
		writeJSON(w, http.StatusServiceUnavailable, api.Health{Status: "store_unreachable", Error: "the job store: " + why})
		return
	}
	switch {
	case st.Loaded:
		writeJSON(w, http.StatusOK, api.Health{Status: "ready"})
	case st.Err != nil:
		retryAfter(w, 30*time.Second)
		writeJSON(w, http.StatusServiceUnavailable, api.Health{Status: "failed", Error: st.Err.Error()})
	default:
		retryAfter(w, time.Second)
		writeJSON(w, http.StatusServiceUnavailable, api.Health{Status: "loading"})
	}
}

// metadata answers GET /v1/metadata.
func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	st := s.eng.Stats()
	md := api.Metadata{Version: s.opts.Version, Queue: st.Queued, Uptime: time.Since(s.started).Seconds(),
		Model: api.ModelMetadata{ID: s.spec.ID, SHA256: s.bundleSHA(), Loaded: st.Model.Loaded,
			LoadTime: st.Model.LoadTime.Seconds()}}
	if m := s.eng.Manifest; m != nil {
		md.Model.Version, md.Model.License = m.Version, m.License
	}
	dev, prec := s.metrics.device()
	md.Device = api.DeviceInfo{Name: dev, Precision: prec}
	if strings.HasPrefix(md.Device.Name, "cuda") {
		md.Device.Note = gpuName()
	}
	if rate := s.metrics.stepRate(); rate > 0 {
		steps := 100.0
		if m := s.eng.Manifest; m != nil {
			steps = float64(m.Steps(0))
		}
		est := steps / rate
		md.DefaultRequestSeconds = &est
	}
	writeJSON(w, http.StatusOK, md)
}

// gpuName asks nvidia-smi, once, for the GPUs' names and memory.
var gpuName = sync.OnceValue(func() string {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader").Output()
	if err != nil {
		return "GPU name unknown (nvidia-smi: " + err.Error() + ")"
	}
	return strings.Join(strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", "; ")), " ")
})

// license answers GET /v1/license.
func (s *Server) license(w http.ResponseWriter, r *http.Request) {
	l := api.License{Model: s.spec.ID, Notice: s.opts.Notice}
	if m := s.eng.Manifest; m != nil {
		l.License, l.Data = m.License, m.DataCredit
	} else {
		l.License, l.Data = "none: the rest-pose test model holds no learned data", "none"
	}
	writeJSON(w, http.StatusOK, l)
}

//go:embed openapi.json
var openAPIDoc []byte

// openAPI answers GET /openapi.json.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", api.MediaJSON)
	w.WriteHeader(http.StatusOK)
	w.Write(openAPIDoc)
}
