package replicas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/motionstudio/studio/api"
)

// client submits and polls async jobs as a pipeline does.
type client struct {
	url string
	hc  *http.Client
}

func newClient(url string) *client {
	return &client{url: url, hc: &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

// submit posts a request with Prefer: respond-async, retrying 429, 502 and
// 503 after their Retry-After (at most 1 s here) until within ends.
func (c *client) submit(body []byte, within time.Duration) (string, error) {
	deadline := time.Now().Add(within)
	for {
		req, _ := http.NewRequest(http.MethodPost, c.url+"/generate", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Prefer", "respond-async")
		resp, err := c.hc.Do(req)
		if err == nil {
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusAccepted:
				var a api.Accepted
				if err := json.Unmarshal(data, &a); err != nil || a.JobID == "" {
					return "", fmt.Errorf("202 without a job id: %s", data)
				}
				return a.JobID, nil
			case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable:
				err = fmt.Errorf("%d %s", resp.StatusCode, data)
				wait(resp)
			default:
				return "", fmt.Errorf("submit: %d %s", resp.StatusCode, data)
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("submit: still refused after %s: %v", within, err)
		}
	}
}

func wait(resp *http.Response) {
	sec, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	time.Sleep(min(time.Duration(max(sec, 1))*time.Second, time.Second))
}

// outcome is a job's final answer.
type outcome struct {
	status int
	body   []byte
	code   string // the MMCP error code of a failure
	msg    string
}

// poll asks once; final is false while the job is queued or running, or
// while the answer is a transient 502/503.
func (c *client) poll(id string) (outcome, bool, error) {
	resp, err := c.hc.Get(c.url + "/generate/jobs/" + id)
	if err != nil {
		return outcome{}, false, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return outcome{}, false, err
	}
	o := outcome{status: resp.StatusCode, body: data}
	switch resp.StatusCode {
	case http.StatusAccepted, http.StatusBadGateway, http.StatusServiceUnavailable:
		return o, false, nil
	case http.StatusOK:
		return o, true, nil
	}
	var env api.ErrorEnvelope
	if json.Unmarshal(data, &env) == nil && env.Error != nil {
		o.code, o.msg = env.Error.Code, env.Error.Message
	}
	return o, true, nil
}

// syncAnswer is the synchronous answer to body (the bytes an async job of
// the same request must end with).
func (c *client) syncAnswer(t testing.TB, body []byte) []byte {
	t.Helper()
	resp, err := c.hc.Post(c.url+"/generate", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sync answer: %d %s", resp.StatusCode, data)
	}
	return data
}
