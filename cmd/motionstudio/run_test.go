package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	studio "github.com/motionstudio/studio"
)

// A plain `go build` binary does not read FyneApp.toml, so main sets the
// same metadata itself; the two must not drift apart.
func TestMetadataMatchesFyneAppToml(t *testing.T) {
	var f struct {
		Details struct {
			Name, ID, Version, Icon string
			Build                   int
		}
		Migrations map[string]bool
	}
	if _, err := toml.DecodeFile("../../FyneApp.toml", &f); err != nil {
		t.Fatal(err)
	}
	d := f.Details
	if d.Name != metadata.Name || d.ID != metadata.ID || d.Version != metadata.Version || d.Build != metadata.Build {
		t.Errorf("FyneApp.toml %+v, metadata in main %+v", d, metadata)
	}
	if !f.Migrations["fyneDo"] || !metadata.Migrations["fyneDo"] {
		t.Errorf("fyneDo migration: FyneApp.toml %v, main %v", f.Migrations, metadata.Migrations)
	}
	if d.Icon != "assets/icon.png" {
		t.Errorf("icon %q, want the embedded assets/icon.png", d.Icon)
	}
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`--app-id (\S+)`).FindSubmatch(mk); m == nil || string(m[1]) != studio.AppID {
		t.Errorf("the Makefile's package target: %q, want --app-id %s", m, studio.AppID)
	}
}

func TestDispatch(t *testing.T) {
	cases := []struct {
		args    []string
		code    int
		stdout  string
		stderr  string
		oneLine bool
	}{
		{[]string{"version"}, 0, "motionstudio " + studio.Version, "", true},
		{[]string{"help"}, 0, "convert IN.bvh", "", false},
		{[]string{"frobnicate"}, 2, "", `unknown command "frobnicate"`, true},
		{[]string{"convert"}, 2, "", "", true},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := dispatch(tc.args, &out, &errb); code != tc.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tc.code, errb.String())
			}
			if !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errb.String(), tc.stderr) {
				t.Errorf("stdout %q, stderr %q", out.String(), errb.String())
			}
			if tc.oneLine && strings.Count(errb.String(), "\n") > 1 {
				t.Errorf("error is more than one line: %q", errb.String())
			}
		})
	}
}

func TestParseServeArgs(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		args []string
		env  map[string]string
		addr string
		tok  string
		cors []string
		bad  bool
		// with --jobs and --null-delay
		jobs              string
		delay, lease, ttl time.Duration
		attempts          int
	}{
		{args: nil, addr: "127.0.0.1:9551"},
		{args: nil, env: map[string]string{"PORT": "8000", "MOTIONSTUDIO_TOKEN": "t"}, addr: "127.0.0.1:8000", tok: "t"},
		{args: []string{"--addr", "0.0.0.0:7000", "--token", "x", "--cors", "http://a, http://b"}, env: map[string]string{"PORT": "8000"},
			addr: "0.0.0.0:7000", tok: "x", cors: []string{"http://a", "http://b"}},
		{args: []string{"--addr", "nope"}, bad: true},
		{args: []string{"--queue", "0"}, bad: true},
		{args: []string{"extra"}, bad: true},
		{args: []string{"--what"}, bad: true},
		{args: []string{"--jobs", "redis://127.0.0.1:6379/0", "--model", "null", "--null-delay", "200ms", "--jobs-lease", "5s",
			"--jobs-attempts", "2", "--jobs-ttl", "1h"}, addr: "127.0.0.1:9551",
			jobs: "redis://127.0.0.1:6379/0", delay: 200 * time.Millisecond, lease: 5 * time.Second, attempts: 2, ttl: time.Hour},
		{args: []string{"--jobs", "127.0.0.1:6379"}, bad: true},
		{args: []string{"--null-delay", "1s"}, bad: true}, // the bundled model takes its own time
		{args: []string{"--model", "null", "--null-delay", "-1s"}, bad: true},
		{args: []string{"--jobs-lease", "10ms"}, bad: true},
		{args: []string{"--jobs-attempts", "0"}, bad: true},
		{args: []string{"--jobs-ttl", "0s"}, bad: true},
	}
	for _, c := range cases {
		o, err := parseServeArgs(c.args, io.Discard, env(c.env))
		if c.bad {
			if !errors.Is(err, errUsage) {
				t.Errorf("%v: %v, want a usage error", c.args, err)
			}
			continue
		}
		if err != nil || o.addr != c.addr || o.token != c.tok || !slices.Equal(o.cors, c.cors) {
			t.Errorf("%v %v: %+v %v", c.args, c.env, o, err)
		}
		if c.jobs != "" && (o.jobs != c.jobs || o.nullDelay != c.delay || o.store.Lease != c.lease ||
			o.store.TTL != c.ttl || o.attempts != c.attempts) {
			t.Errorf("%v: %+v", c.args, o)
		}
	}
}
