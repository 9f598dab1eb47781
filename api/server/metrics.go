package server

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/jobs"
)

// metrics are the Prometheus series of /v1/metrics, on a registry of the
// server's own (no global state).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	seconds  prometheus.Histogram
	steps    prometheus.Counter
	rate     prometheus.Gauge
	handler  http.Handler

	// The shared job store's series, registered only with one (serve --jobs).
	storeUp     prometheus.Gauge
	storeErrors prometheus.Counter
	claimed     prometheus.Counter
	reclaimed   prometheus.Counter
	handedBack  prometheus.Counter

	mu    sync.Mutex
	last  float64 // wall seconds of the latest generation
	rateV float64 // its steps per second
	dev   string  // where it ran
	prec  string  // the denoiser that ran (int8 or float32)
}

func newMetrics(eng *engine.Engine, store bool) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "motionstudio_http_requests_total", Help: "HTTP requests answered, by route and status code.",
	}, []string{"route", "code"})
	m.seconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "motionstudio_generation_seconds", Help: "Wall time of finished generations.",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300},
	})
	m.steps = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "motionstudio_denoising_steps_total", Help: "Denoising steps run (all windows of all jobs).",
	})
	m.rate = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "motionstudio_denoising_steps_per_second", Help: "Denoising steps per second of the latest generation.",
	})
	// The job gauges read the engine's scheduler, so they count every job:
	// synchronous, async (Prefer: respond-async), batch and the studio's.
	queue := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "motionstudio_queue_depth", Help: "Jobs waiting behind the running one (sync, async and batch).",
	}, func() float64 { return float64(eng.Stats().Queued) })
	running := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "motionstudio_jobs_running", Help: "1 while a job runs.",
	}, func() float64 { return float64(running(eng.Stats())) })
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "motionstudio_jobs_in_flight", Help: "Jobs queued or running (sync, async and batch).",
	}, func() float64 { return float64(inFlight(eng.Stats())) })
	loaded := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "motionstudio_model_loaded", Help: "1 once the model is loaded.",
	}, func() float64 {
		if eng.Stats().Model.Loaded {
			return 1
		}
		return 0
	})
	m.reg.MustRegister(m.requests, m.seconds, m.steps, m.rate, queue, running, inFlight, loaded,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	m.storeUp = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "motionstudio_store_up", Help: "1 while the shared job store answers (serve --jobs).",
	})
	m.storeErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "motionstudio_store_errors_total", Help: "Job store calls that failed (unreachable, timed out).",
	})
	m.claimed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "motionstudio_store_jobs_claimed_total", Help: "Jobs this replica took from the shared queue.",
	})
	m.reclaimed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "motionstudio_store_jobs_reclaimed_total", Help: "Of those, jobs taken over after another worker's lease ran out.",
	})
	m.handedBack = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "motionstudio_store_jobs_handed_back_total", Help: "Jobs this replica gave back to the queue (shutdown, local queue full).",
	})
	if store {
		m.reg.MustRegister(m.storeUp, m.storeErrors, m.claimed, m.reclaimed, m.handedBack)
	}
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

func (m *metrics) serve(w http.ResponseWriter, r *http.Request) { m.handler.ServeHTTP(w, r) }

// running is 1 while a job runs, else 0.
func running(st jobs.Stats) int {
	if st.Running != "" {
		return 1
	}
	return 0
}

// inFlight is how many jobs are queued or running.
func inFlight(st jobs.Stats) int { return st.Queued + running(st) }

// observe records one finished generation, synchronous or async.
func (m *metrics) observe(res *generate.Result) {
	sec := res.Timing.Total.Seconds()
	m.seconds.Observe(sec)
	steps := float64(res.Steps * max(1, res.Windows))
	m.steps.Add(steps)
	if sec > 0 {
		m.rate.Set(steps / sec)
	}
	m.mu.Lock()
	m.last, m.dev, m.prec = sec, res.Device, res.Precision
	if sec > 0 {
		m.rateV = steps / sec
	}
	m.mu.Unlock()
}

// device is where the latest generation ran and the denoiser's precision
// ("" before any).
func (m *metrics) device() (dev, precision string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dev, m.prec
}

// stepRate is the latest generation's denoising steps per second.
func (m *metrics) stepRate() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rateV
}

// lastSeconds is the wall time of the latest generation, 0 before any.
func (m *metrics) lastSeconds() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}

// instrument counts a route's answers by status code.
func (m *metrics) instrument(route string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() { m.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc() }()
		h(sw, r)
	})
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
