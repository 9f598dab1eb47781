package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	yaml "go.yaml.in/yaml/v2" // in go.mod (prometheus needs it): the manifest only has to parse

	"github.com/motionstudio/studio/api/server"
	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/engine/nullmodel"
	"github.com/motionstudio/studio/internal/testtools"
)

// checkServeArgs parses args as serve's and returns the options: a flag the
// deploy files pass and serve lacks fails the test.
func checkServeArgs(t *testing.T, args []string) serveOptions {
	t.Helper()
	o, err := parseServeArgs(args, io.Discard, noEnv)
	if err != nil {
		t.Fatalf("serve %q: %v", args, err)
	}
	return o
}

func noEnv(string) string { return "" }

// readUnit reads a systemd unit file: section → key → values (in order).
func readUnit(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	unit := map[string]map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			section = line[1 : len(line)-1]
			unit[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s: bad line %q", path, line)
			}
			unit[section][k] = append(unit[section][k], v)
		}
	}
	return unit
}

// The systemd unit starts serve with flags serve has, on its instance's
// port on loopback, restarts it on failure and gives its SIGTERM drain
// more time than the drain takes; systemd-analyze finds nothing to say
// about it.
func TestDeploySystemdUnit(t *testing.T) {
	path := filepath.Join("..", "..", "deploy", "motionstudio@.service")
	svc := readUnit(t, path)["Service"]
	if svc == nil {
		t.Fatal("no [Service] section")
	}
	exec1 := func(k string) string {
		if len(svc[k]) != 1 {
			t.Fatalf("%s: %d values, want one", k, len(svc[k]))
		}
		return svc[k][0]
	}
	args := strings.Fields(strings.ReplaceAll(exec1("ExecStart"), "%i", "8091"))
	if len(args) < 2 || filepath.Base(args[0]) != "motionstudio" || args[1] != "serve" {
		t.Fatalf("ExecStart %q: want motionstudio serve …", args)
	}
	o := checkServeArgs(t, args[2:])
	if o.addr != "127.0.0.1:8091" {
		t.Errorf("instance 8091 listens on %s", o.addr)
	}
	stop, err := time.ParseDuration(exec1("TimeoutStopSec"))
	if err != nil {
		t.Fatalf("TimeoutStopSec: %v", err)
	}
	if stop <= o.grace+closeWait {
		t.Errorf("TimeoutStopSec %v: serve may take %v (--grace) + %v to stop", stop, o.grace, closeWait)
	}
	for k, want := range map[string]string{"Restart": "on-failure", "KillSignal": "SIGTERM", "NoNewPrivileges": "yes",
		"DynamicUser": "yes", "ProtectSystem": "strict"} {
		if got := exec1(k); got != want {
			t.Errorf("%s=%s, want %s", k, got, want)
		}
	}

	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		testtools.Unavailable(t, "systemd-analyze (Debian package systemd): the unit's syntax is not verified")
	}
	// verify wants the binary to exist and an instance for the template.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	inst := filepath.Join(t.TempDir(), "motionstudio@8091.service")
	os.WriteFile(inst, bytes.ReplaceAll(data, []byte(args[0]), []byte(self)), 0o644)
	out, err := exec.Command(sa, "verify", inst).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// The Kubernetes sketch parses; its serve arguments are serve's flags; its
// probes are routes the server answers; it asks for a GPU per replica; the
// job store URL names its Redis Service; the pods get longer to stop than
// serve's drain.
func TestDeployKubernetesManifest(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "deploy", "k8s", "motionstudio.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type probe struct {
		HTTPGet *struct {
			Path string `yaml:"path"`
			Port any    `yaml:"port"`
		} `yaml:"httpGet"`
	}
	type object struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Spec struct {
			Ports []struct {
				Port int `yaml:"port"`
			} `yaml:"ports"`
			Template struct {
				Spec struct {
					TerminationGrace int `yaml:"terminationGracePeriodSeconds"`
					Containers       []struct {
						Args  []string `yaml:"args"`
						Ports []struct {
							Name string `yaml:"name"`
							Port int    `yaml:"containerPort"`
						} `yaml:"ports"`
						Readiness *probe `yaml:"readinessProbe"`
						Liveness  *probe `yaml:"livenessProbe"`
						Startup   *probe `yaml:"startupProbe"`
						Resources struct {
							Requests map[string]any `yaml:"requests"`
							Limits   map[string]any `yaml:"limits"`
						} `yaml:"resources"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	objs := map[string]object{}
	dec := yaml.NewDecoder(f)
	for {
		var o object
		if err := dec.Decode(&o); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		objs[o.Kind+"/"+o.Metadata.Name] = o
	}
	for _, k := range []string{"Deployment/motionstudio", "Service/motionstudio", "Deployment/motionstudio-redis", "Service/motionstudio-redis"} {
		if _, ok := objs[k]; !ok {
			t.Fatalf("no %s among %d objects", k, len(objs))
		}
	}
	pod := objs["Deployment/motionstudio"].Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	if len(c.Args) == 0 || c.Args[0] != "serve" {
		t.Fatalf("args %q: want serve …", c.Args)
	}
	o := checkServeArgs(t, c.Args[1:])
	if _, port, _ := net.SplitHostPort(o.addr); len(c.Ports) != 1 || fmt.Sprint(c.Ports[0].Port) != port {
		t.Errorf("--addr %s, container ports %+v", o.addr, c.Ports)
	}
	if time.Duration(pod.TerminationGrace)*time.Second <= o.grace+closeWait {
		t.Errorf("terminationGracePeriodSeconds %d: serve may take %v + %v to stop", pod.TerminationGrace, o.grace, closeWait)
	}
	for _, m := range []map[string]any{c.Resources.Requests, c.Resources.Limits} {
		if fmt.Sprint(m["nvidia.com/gpu"]) != "1" {
			t.Errorf("resources %v: want nvidia.com/gpu: 1 in requests and limits", m)
		}
	}
	checkJobsURL(t, c.Args, objs["Service/motionstudio-redis"].Spec.Ports[0].Port)

	// The probes' paths, against the server itself (null model).
	eng, err := engine.New(engine.Options{Model: nullmodel.ID})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(context.Background())
	h := server.New(eng, server.Options{Addr: o.addr}).Handler()
	for name, p := range map[string]*probe{"readiness": c.Readiness, "liveness": c.Liveness, "startup": c.Startup} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("no %s httpGet probe", name)
			continue
		}
		if p.HTTPGet.Port != c.Ports[0].Name && fmt.Sprint(p.HTTPGet.Port) != fmt.Sprint(c.Ports[0].Port) {
			t.Errorf("%s probe on port %v, not the container's", name, p.HTTPGet.Port)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p.HTTPGet.Path, nil))
		if rec.Code != http.StatusOK && rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s probe GET %s: %d %s", name, p.HTTPGet.Path, rec.Code, rec.Body)
		}
	}
}

// checkJobsURL: --jobs names the Redis Service on its port.
func checkJobsURL(t *testing.T, args []string, port int) {
	t.Helper()
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--jobs="); ok {
			u, err := url.Parse(v)
			if err != nil || u.Scheme != "redis" || u.Host != fmt.Sprintf("motionstudio-redis:%d", port) {
				t.Errorf("--jobs %q: want redis://motionstudio-redis:%d/DB", v, port)
			}
			return
		}
	}
	t.Errorf("args %q: no --jobs=redis://…", args)
}
