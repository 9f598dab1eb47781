package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/motionstudio/studio/engine/request"
)

// Client talks to a Motion Studio server (or any MMCP v1 server for the
// MMCP calls). The zero value is not usable: build one with NewClient.
type Client struct {
	base  *url.URL
	http  *http.Client
	token string
}

// NewClient returns a client for base (for example "http://127.0.0.1:9551");
// token, when not empty, is sent as a bearer token.
func NewClient(base, token string) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("api: base URL %q: want http(s)://host:port", base)
	}
	return &Client{base: u, http: &http.Client{}, token: token}, nil
}

// do sends one request and returns the body of a 2xx answer; any other
// answer becomes an *Error.
func (c *Client) do(ctx context.Context, method, path string, body []byte, header http.Header) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, rd)
	if err != nil {
		return nil, nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("api: reading the answer to %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return resp, data, decodeError(resp, data)
	}
	return resp, data, nil
}

// decodeError reads an error envelope (or keeps the raw body in Message).
func decodeError(resp *http.Response, data []byte) *Error {
	e := &Error{Status: resp.StatusCode, RequestID: resp.Header.Get("X-Request-ID"), RetryAfter: retryAfterOf(resp)}
	var env ErrorEnvelope
	if json.Unmarshal(data, &env) == nil && env.Error != nil {
		e.Code, e.Message, e.Details = env.Error.Code, env.Error.Message, env.Error.Details
	} else {
		e.Message = strings.TrimSpace(string(data[:min(len(data), 500)]))
	}
	return e
}

// retryAfterOf reads a Retry-After in seconds (0 when absent or an HTTP
// date, which this server never sends).
func retryAfterOf(resp *http.Response) time.Duration {
	if s, err := strconv.ParseFloat(resp.Header.Get("Retry-After"), 64); err == nil && s >= 0 && s < 1e6 {
		return time.Duration(s * float64(time.Second))
	}
	return 0
}

// Capabilities fetches GET /capabilities.
func (c *Client) Capabilities(ctx context.Context) (*Capabilities, error) {
	_, data, err := c.do(ctx, http.MethodGet, "/capabilities", nil, nil)
	if err != nil {
		return nil, err
	}
	var caps Capabilities
	if err := json.Unmarshal(data, &caps); err != nil {
		return nil, fmt.Errorf("api: capabilities: %w", err)
	}
	return &caps, nil
}

// Generate runs one MMCP request synchronously and returns the glTF
// document: JSON, or GLB with binary.
func (c *Client) Generate(ctx context.Context, req *request.Request, binary bool) ([]byte, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	h := http.Header{"Accept": {MediaGLTF}}
	if binary {
		h.Set("Accept", MediaGLB)
	}
	_, data, err := c.do(ctx, http.MethodPost, "/generate", body, h)
	return data, err
}

// Batch sends several requests in one body; each result is a glTF JSON
// document or an error.
func (c *Client) Batch(ctx context.Context, reqs []*request.Request) (*BatchResponse, error) {
	body, err := json.Marshal(map[string]any{"protocol_version": ProtocolVersion, "requests": reqs})
	if err != nil {
		return nil, err
	}
	_, data, err := c.do(ctx, http.MethodPost, "/generate", body, nil)
	if err != nil {
		return nil, err
	}
	var out struct {
		Results []struct {
			GLTF  json.RawMessage `json:"gltf"`
			Error *request.Error  `json:"error"`
		} `json:"results"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("api: batch answer: %w", err)
	}
	br := &BatchResponse{}
	for _, r := range out.Results {
		if r.Error != nil {
			br.Results = append(br.Results, BatchResult{Error: r.Error})
		} else {
			br.Results = append(br.Results, BatchResult{GLTF: r.GLTF})
		}
	}
	return br, nil
}

// Submit queues a request asynchronously (Prefer: respond-async) and
// returns its job id.
func (c *Client) Submit(ctx context.Context, req *request.Request) (string, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	id, _, err := c.SubmitJSON(ctx, body)
	return id, err
}

// SubmitJSON queues a request given as its JSON body, as sent (a pipeline's
// line, which the server validates), and returns its job id and how long
// the server suggests waiting before the first poll (its Retry-After).
func (c *Client) SubmitJSON(ctx context.Context, body []byte) (string, time.Duration, error) {
	resp, data, err := c.do(ctx, http.MethodPost, "/generate", body, http.Header{"Prefer": {"respond-async"}})
	if err != nil {
		return "", 0, err
	}
	if resp.StatusCode != http.StatusAccepted {
		return "", 0, fmt.Errorf("api: asked for an async job, got %d", resp.StatusCode)
	}
	var a Accepted
	if err := json.Unmarshal(data, &a); err != nil || a.JobID == "" {
		return "", 0, fmt.Errorf("api: 202 without a job id: %.200s", data)
	}
	return a.JobID, retryAfterOf(resp), nil
}

// Poll asks for a job once: the glTF document when done (status nil), or
// the job's status while it runs (document nil).
func (c *Client) Poll(ctx context.Context, id string, binary bool) ([]byte, *JobStatus, error) {
	h := http.Header{"Accept": {MediaGLTF}}
	if binary {
		h.Set("Accept", MediaGLB)
	}
	resp, data, err := c.do(ctx, http.MethodGet, "/generate/jobs/"+url.PathEscape(id), nil, h)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode == http.StatusAccepted {
		var st JobStatus
		if err := json.Unmarshal(data, &st); err != nil {
			return nil, nil, fmt.Errorf("api: job status: %w", err)
		}
		st.RetryAfter = retryAfterOf(resp)
		return nil, &st, nil
	}
	return data, nil, nil
}

// Wait polls a job until it is done, ctx ends or it fails.
func (c *Client) Wait(ctx context.Context, id string, binary bool) ([]byte, error) {
	for {
		doc, st, err := c.Poll(ctx, id, binary)
		if err != nil || st == nil {
			return doc, err
		}
		delay := 500 * time.Millisecond
		if st.Estimate > 0 {
			delay = min(2*time.Second, max(delay, time.Duration(st.Estimate*float64(time.Second)/2)))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
	}
}

// Cancel cancels a job (DELETE /generate/jobs/{id}).
func (c *Client) Cancel(ctx context.Context, id string) error {
	_, _, err := c.do(ctx, http.MethodDelete, "/generate/jobs/"+url.PathEscape(id), nil, nil)
	return err
}

// GenerateNPZ is the kimodo-api call: POST /generate without
// protocol_version, the first sample as NPZ bytes.
func (c *Client) GenerateNPZ(ctx context.Context, k KimodoRequest) ([]byte, error) {
	return c.kimodo(ctx, "/generate", k)
}

// GenerateBVH is POST /generate_bvh: the first sample as BVH text.
func (c *Client) GenerateBVH(ctx context.Context, k KimodoRequest) ([]byte, error) {
	return c.kimodo(ctx, "/generate_bvh", k)
}

func (c *Client) kimodo(ctx context.Context, path string, k KimodoRequest) ([]byte, error) {
	body, err := json.Marshal(k)
	if err != nil {
		return nil, err
	}
	_, data, err := c.do(ctx, http.MethodPost, path, body, nil)
	return data, err
}

// Ready reports whether GET /v1/health/ready answers 200.
func (c *Client) Ready(ctx context.Context) (bool, error) {
	_, _, err := c.do(ctx, http.MethodGet, "/v1/health/ready", nil, nil)
	if e, ok := err.(*Error); ok && e.Status == http.StatusServiceUnavailable {
		return false, nil
	}
	return err == nil, err
}

// Metadata fetches GET /v1/metadata.
func (c *Client) Metadata(ctx context.Context) (*Metadata, error) {
	_, data, err := c.do(ctx, http.MethodGet, "/v1/metadata", nil, nil)
	if err != nil {
		return nil, err
	}
	var md Metadata
	if err := json.Unmarshal(data, &md); err != nil {
		return nil, fmt.Errorf("api: metadata: %w", err)
	}
	return &md, nil
}
