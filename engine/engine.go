// Package engine is Motion Studio's generation service: one model, loaded
// lazily on the first job and owned by one scheduler goroutine (engine/jobs),
// running MMCP requests through engine/generate. The studio and the HTTP API
// share one Engine, so a job sent by a script shows in the studio's history.
package engine

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/motionstudio/studio/assets/models"
	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/jobs"
	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/nullmodel"
	"github.com/motionstudio/studio/engine/request"
)

// Options choose the model and how it runs.
type Options struct {
	Model   string // a bundled model's id, a bundle folder, or "null" (nullmodel); empty: the bundled default
	Device  string // auto | cpu | cuda | cuda:N
	Threads int    // CPU intra-op threads; 0: min(4, NumCPU)
	Library string // libonnxruntime; empty: model.FindLibrary
	// Precision is auto (the bundle's int8 denoiser on the CPU, when it
	// has one) or float.
	Precision string
	// NullDelay makes the null model take this long per job (see
	// nullmodel.Model.Delay); other models ignore it.
	NullDelay time.Duration
	Jobs      jobs.Options
}

// Backend is a loaded model as the scheduler goroutine owns it.
type Backend interface {
	Run(ctx context.Context, req *request.Request, opts generate.Options) (*generate.Result, error)
}

// onnxModel runs a bundle through engine/generate.
type onnxModel struct{ m *model.Model }

func (b onnxModel) Run(ctx context.Context, req *request.Request, opts generate.Options) (*generate.Result, error) {
	return generate.Run(ctx, b.m, req, opts)
}

func (b onnxModel) Close() error { return b.m.Close() }

// Job is one generation as the scheduler tracks it.
type Job = jobs.Job[*generate.Result]

// Engine serves generation jobs.
type Engine struct {
	*jobs.Scheduler[Backend, *generate.Result] // Get, List, Cancel, Wait, Subscribe, Stats

	Manifest *model.Manifest // nil for the null model
	Files    fs.FS           // the bundle's files; nil for the null model
	// Tokenizer reads prompts as the model does (nil for the null model):
	// it loads with the manifest, so Read answers before the model runs.
	Tokenizer *model.WordTokenizer
	caps      request.ModelCaps
}

// Reading is how the model reads one text segment's prompt.
type Reading struct {
	Segment int // its index in the request's segments
	model.Reading
}

// Read says how the model reads the request's text segments, in order:
// the words it understands, maps onto words it knows, and ignores. Nil
// for a model without a tokenizer. Safe for concurrent use.
func (e *Engine) Read(req *request.Request) []Reading {
	if e.Tokenizer == nil {
		return nil
	}
	var out []Reading
	for i, s := range req.Segments {
		if s.Type == request.SegmentText {
			out = append(out, Reading{Segment: i, Reading: e.Tokenizer.Read(s.Prompt)})
		}
	}
	return out
}

// New checks the bundle (manifest, files, layout, tokenizer: fast, no ONNX
// Runtime)
// and starts the scheduler; the model itself loads with the first job.
func New(opts Options) (*Engine, error) {
	if opts.Model == nullmodel.ID {
		load := func(context.Context) (Backend, error) {
			m := nullmodel.New()
			m.Delay = opts.NullDelay
			return m, nil
		}
		return NewWith(nullmodel.Caps(), load, opts.Jobs), nil
	}
	fsys, err := Bundle(opts.Model)
	if err != nil {
		return nil, err
	}
	man, err := model.LoadManifestFS(fsys)
	if err != nil {
		return nil, err
	}
	if err := man.CheckFiles(fsys); err != nil {
		return nil, err
	}
	lay, err := model.LayoutFromManifest(man)
	if err != nil {
		return nil, err
	}
	var tok *model.WordTokenizer
	if man.Text.Tokenizer != nil {
		if tok, err = model.LoadTokenizer(fsys, man); err != nil {
			return nil, err
		}
	}
	if _, err := model.ParseDevice(opts.Device); err != nil {
		return nil, err
	}
	if _, err := model.ParsePrecision(opts.Precision); err != nil {
		return nil, err
	}
	load := func(ctx context.Context) (Backend, error) {
		m, err := model.Open(fsys, model.Options{Device: opts.Device, Threads: opts.Threads, Library: opts.Library,
			Precision: opts.Precision})
		if err != nil {
			return nil, err
		}
		return onnxModel{m}, nil
	}
	return &Engine{Scheduler: jobs.New[Backend, *generate.Result](load, opts.Jobs), Manifest: man, Files: fsys,
		Tokenizer: tok, caps: generate.CapsFor(man, lay)}, nil
}

// NewWith serves a model of one's own: caps describe it, load builds it
// on the scheduler goroutine (tests use slow or failing backends).
func NewWith(caps request.ModelCaps, load func(context.Context) (Backend, error), opts jobs.Options) *Engine {
	return &Engine{Scheduler: jobs.New[Backend, *generate.Result](load, opts), caps: caps}
}

// Preload starts loading the model now, as a job of its own, so that the
// first generation does not wait for it (a server's readiness probe turns
// green when it is done). It returns the job.
func (e *Engine) Preload(ctx context.Context) (Job, error) {
	return e.Scheduler.Submit(ctx, "load model", func(context.Context, Backend, func(jobs.Progress)) (*generate.Result, error) {
		return &generate.Result{}, nil
	})
}

// Bundle resolves a model name: a folder holding model.json, else a
// bundled id (empty: the default).
func Bundle(name string) (fs.FS, error) {
	if name == "" {
		name = models.DefaultID
	}
	if st, err := os.Stat(name); err == nil && st.IsDir() {
		return os.DirFS(name), nil
	}
	b, err := models.Bundle(name)
	if err != nil {
		return nil, fmt.Errorf("model %q: neither a bundle folder nor a bundled model (bundled: %s)", name, models.DefaultID)
	}
	return b, nil
}

// Caps describes the model for request validation and /capabilities.
func (e *Engine) Caps() request.ModelCaps { return e.caps }

// Submit queues a validated request. The job runs on a deep copy of req
// (its defaults applied there), so the caller may read, marshal or change
// req meanwhile, and what it records is what it sent. With preview,
// progress events carry each step's clean-motion estimate
// ([]*motion.Motion). Errors: jobs.ErrBusy, jobs.ErrClosed.
func (e *Engine) Submit(ctx context.Context, label string, req *request.Request, preview bool) (Job, error) {
	return e.SubmitKeep(ctx, label, req, preview, nil)
}

// SubmitKeep is Submit regenerating only a range of a previous take
// (generate.Options.Keep; nil: the whole request), for the studio's
// "Regenerate range". A Keep that does not fit the request fails the job
// with generate.ErrKeep.
func (e *Engine) SubmitKeep(ctx context.Context, label string, req *request.Request, preview bool, keep *generate.Keep) (Job, error) {
	req = req.Clone() // the scheduler goroutine applies defaults to its own copy
	work := func(ctx context.Context, m Backend, progress func(jobs.Progress)) (*generate.Result, error) {
		return m.Run(ctx, req, generate.Options{Preview: preview, Keep: keep, Progress: func(p generate.Progress) {
			jp := jobs.Progress{Step: p.Step, Steps: p.Steps, Stage: "denoise"}
			if p.Preview != nil {
				jp.Preview = p.Preview
			}
			progress(jp)
		}})
	}
	return e.Scheduler.Submit(ctx, label, work)
}
