// Package api holds the wire types of Motion Studio's HTTP API and a small
// Go client for it. The server lives in api/server; this package imports
// nothing of it, so a pipeline tool can depend on the client alone.
//
// Three families of routes share one engine:
//   - MMCP v1: GET /capabilities, POST /generate (single, batch, async),
//     GET and DELETE /generate/jobs/{id};
//   - the kimodo-api routes: GET /health, POST /generate with a body
//     without protocol_version (NPZ back), POST /generate_bvh;
//   - operator endpoints under /v1: health/live, health/ready, metrics,
//     metadata, license; and /openapi.json.
package api

import (
	"fmt"
	"strings"
	"time"

	"github.com/motionstudio/studio/engine/request"
)

// ProtocolVersion is the MMCP version the server implements (any 1.x
// request is taken): the request package's, which parses it.
const ProtocolVersion = request.ProtocolVersion

// Media types.
const (
	MediaGLTF = "model/gltf+json"
	MediaGLB  = "model/gltf-binary"
	MediaJSON = "application/json"
	MediaNPZ  = "application/octet-stream"
	MediaBVH  = "text/plain; charset=utf-8"
	MediaZip  = "application/zip"
)

// DefaultAddr is where the server listens unless told otherwise; the PORT
// environment variable overrides the port.
const DefaultAddr = "127.0.0.1:9551"

// Capabilities is the body of GET /capabilities (MMCP-notes §4).
type Capabilities struct {
	ProtocolVersion  string      `json:"protocol_version"`
	RotationFormat   string      `json:"rotation_format"`
	CoordinateSystem string      `json:"coordinate_system"`
	Units            string      `json:"units"`
	ResponseFormats  []string    `json:"response_formats"`
	Models           []ModelSpec `json:"models"`
}

// ModelSpec is one served model, its fields in the reference's order.
type ModelSpec struct {
	ID                            string           `json:"id"`
	FPS                           float64          `json:"fps"`
	CanonicalSkeleton             request.Skeleton `json:"canonical_skeleton"`
	SupportsRetargeting           bool             `json:"supports_retargeting"`
	SupportsAsync                 bool             `json:"supports_async"`
	SupportsSegmentSeed           bool             `json:"supports_segment_seed"`
	SupportsLoop                  bool             `json:"supports_loop"`
	SupportsMotionReferenceMixed  bool             `json:"supports_motion_reference_mixed"`
	SupportsBatch                 bool             `json:"supports_batch"`
	SupportsTrajectory            bool             `json:"supports_trajectory"`
	SupportedConstraints          []string         `json:"supported_constraints"`
	SupportedSegments             []string         `json:"supported_segments"`
	SupportedGuidanceTypes        []string         `json:"supported_guidance_types"`
	PredictedContactJoints        []string         `json:"predicted_contact_joints"`
	NativeClipSeconds             float64          `json:"native_clip_seconds"`
	Chunking                      string           `json:"chunking"`
	RecommendedMaxDurationSeconds float64          `json:"recommended_max_duration_seconds"`
	Limits                        request.Limits   `json:"limits"`
}

// ErrorEnvelope is the body of every MMCP error answer.
type ErrorEnvelope struct {
	Error *request.Error `json:"error"`
}

// BatchResponse answers a batch body: one entry per request, in order.
type BatchResponse struct {
	Results []BatchResult `json:"results"`
}

// BatchResult is a glTF document or an error, never both.
type BatchResult struct {
	GLTF  any            `json:"gltf,omitempty"`
	Error *request.Error `json:"error,omitempty"`
}

// Accepted is the body of a 202 answer to an async generate.
type Accepted struct {
	JobID       string    `json:"job_id"`
	SubmittedAt time.Time `json:"submitted_at"`
}

// JobStatus is the body of a 202 answer to a poll of a job still running.
type JobStatus struct {
	JobID    string  `json:"job_id"`
	State    string  `json:"state"` // queued | running
	Step     int     `json:"step"`
	Steps    int     `json:"steps"`
	Elapsed  float64 `json:"elapsed_s"`
	Estimate float64 `json:"eta_s"`
	// RetryAfter is the answer's Retry-After, when to poll again (set by
	// Client.Poll; not in the body).
	RetryAfter time.Duration `json:"-"`
}

// MotionExtension is the document-level MMCP_motion glTF extension.
type MotionExtension struct {
	Version            string            `json:"version"`
	Model              string            `json:"model"`
	FPS                float64           `json:"fps"`
	CanonicalToRequest map[string]string `json:"canonical_to_request,omitempty"`
	Samples            []MotionSample    `json:"samples"`
	// Words says how the model read each text segment's prompt (an
	// additive field of ours; absent for a model without a vocabulary).
	Words []Words `json:"words,omitempty"`
}

// HeaderWords carries the []Words of a generation's answer as compact
// JSON (ASCII): on every successful POST /generate, poll and
// POST /generate_bvh answer of a model with a vocabulary. An MMCP answer
// leaves it out when it would exceed 8 KiB; MMCP_motion.words has it all.
const HeaderWords = "X-Motionstudio-Words"

// Words says how the model read one text segment's prompt: the words it
// understood, the ones it mapped onto words it knows, and the ones it
// ignored (read as an unknown token). Each word is listed once.
type Words struct {
	Segment    int          `json:"segment"` // index into the request's segments
	Understood []string     `json:"understood"`
	Mapped     []MappedWord `json:"mapped"`
	Ignored    []string     `json:"ignored"`
}

// MappedWord is a word (or phrase) the vocabulary lacks and the word the
// model read instead.
type MappedWord struct {
	From string `json:"from"`
	To   string `json:"to"`
	How  string `json:"how"` // inflection, synonym or relative
}

// MotionSample describes animations[i].
type MotionSample struct {
	Name            string            `json:"name"`
	NumFrames       int               `json:"num_frames"`
	ChunkBoundaries []int             `json:"chunk_boundaries"`
	FootContacts    map[string][]bool `json:"foot_contacts,omitempty"`
	Trajectory      *Trajectory       `json:"trajectory,omitempty"`
}

// Trajectory is a sample's travel over the floor (MMCP
// samples[].trajectory): per frame the root's x/z and its heading about +Y
// (radians from frame 0's, unwrapped). In an in-place answer
// (POST /generate?in_place=true) it is the travel taken out of the motion.
type Trajectory struct {
	Model    string         `json:"model"` // "still", or "sampled": a path frame by frame, no fitted curve
	Loop     bool           `json:"loop"`  // options.loop
	Params   map[string]any `json:"params"`
	Position [][2]float64   `json:"position"`
	Yaw      []float64      `json:"yaw"`
}

// KimodoRequest is the body of the kimodo-api routes (POST /generate
// without protocol_version, POST /generate_bvh).
type KimodoRequest struct {
	Prompt    string  `json:"prompt"`
	NumFrames int     `json:"num_frames,omitempty"` // default 120
	FPS       float64 `json:"fps,omitempty"`        // default the model's
	Seed      *int64  `json:"seed,omitempty"`
	Steps     int     `json:"diffusion_steps,omitempty"`
	// PostProcessing defaults to true, as in MMCP.
	PostProcessing *bool `json:"post_processing,omitempty"`
}

// Health is the body of GET /health and the /v1/health routes.
type Health struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// Metadata is the body of GET /v1/metadata.
type Metadata struct {
	Version string        `json:"version"`
	Model   ModelMetadata `json:"model"`
	Device  DeviceInfo    `json:"device"`
	// DefaultRequestSeconds estimates a default request (120 frames, the
	// model's default steps, one sample) from the jobs run so far; null
	// before the first.
	DefaultRequestSeconds *float64 `json:"default_request_seconds"`
	Queue                 int      `json:"queue"`
	Uptime                float64  `json:"uptime_s"`
}

// ModelMetadata names the served model.
type ModelMetadata struct {
	ID       string  `json:"id"`
	Version  string  `json:"version,omitempty"`
	SHA256   string  `json:"sha256,omitempty"` // of the bundle's files, in name order
	Loaded   bool    `json:"loaded"`
	LoadTime float64 `json:"load_s,omitempty"`
	License  string  `json:"license,omitempty"`
}

// DeviceInfo is where the model runs: "cpu" or "cuda:N" with why.
type DeviceInfo struct {
	Name string `json:"name"`           // empty until the model is loaded
	Note string `json:"note,omitempty"` // why auto chose it
	// Precision is the denoiser that ran: int8 (the bundle's quantized CPU
	// copy) or float32; empty until the model is loaded.
	Precision string `json:"precision,omitempty"`
}

// License is the body of GET /v1/license.
type License struct {
	Model     string `json:"model"`
	License   string `json:"license"`
	Data      string `json:"data"`
	Notice    string `json:"notice"` // the project's NOTICE: credits for data and derived assets
	Copyright string `json:"copyright,omitempty"`
}

// Error is an error answer as the client sees it.
type Error struct {
	Status     int
	Code       string         // the MMCP code, or "" for a body that was no envelope
	Message    string         //
	Details    map[string]any //
	RetryAfter time.Duration  // from Retry-After, when sent
	RequestID  string         // from X-Request-ID
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d", e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	return b.String()
}
