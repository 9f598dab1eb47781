package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/engine/request"
)

// openAPIMethods are the operation keys of an OpenAPI path item.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// openAPIParse decodes the embedded document.
func openAPIParse(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	return doc
}

// openAPIObject is doc[keys...] as an object, failing the test when it is not one.
func openAPIObject(t *testing.T, v any, keys ...string) map[string]any {
	t.Helper()
	for i, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s is not an object", strings.Join(keys[:i], "."))
		}
		v = m[k]
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s is not an object", strings.Join(keys, "."))
	}
	return m
}

// openAPIPointer resolves a local reference ("#/a/b~1c") in doc.
func openAPIPointer(doc map[string]any, ref string) (any, bool) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	var v any = doc
	for _, tok := range strings.Split(rest, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return v, true
}

// openAPIDeref follows an object that is only a $ref (a response, header
// or parameter defined under components) to its definition.
func openAPIDeref(t *testing.T, doc map[string]any, v any) map[string]any {
	t.Helper()
	for range 10 {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%v is not an object", v)
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		if v, ok = openAPIPointer(doc, ref); !ok {
			t.Fatalf("$ref %q does not resolve", ref)
		}
	}
	t.Fatalf("$ref chain too long at %v", v)
	return nil
}

// openAPIOperations lists the document's operations as "METHOD /path".
func openAPIOperations(t *testing.T, doc map[string]any) map[string]map[string]any {
	t.Helper()
	ops := map[string]map[string]any{}
	for path, item := range openAPIObject(t, doc, "paths") {
		pi, ok := item.(map[string]any)
		if !ok {
			t.Fatalf("paths[%q] is not an object", path)
		}
		for _, m := range openAPIMethods {
			if op, ok := pi[m]; ok {
				o, ok := op.(map[string]any)
				if !ok {
					t.Fatalf("paths[%q].%s is not an object", path, m)
				}
				ops[strings.ToUpper(m)+" "+path] = o
			}
		}
	}
	return ops
}

// serverRoutes reads the route patterns Handler registers from server.go:
// every route("METHOD /path", ...) call.
func serverRoutes(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("server.go")
	if err != nil {
		t.Fatal(err)
	}
	call := regexp.MustCompile(`\broute\(\s*"([A-Z]+) ([^"\s]+)"`)
	rest := regexp.MustCompile(`\{(\w+)\.\.\.\}`)
	var routes []string
	for _, m := range call.FindAllStringSubmatch(string(src), -1) {
		// Go's {id} is OpenAPI's {id}; {name...} matches the rest of the
		// path and {$} only anchors the end.
		path := rest.ReplaceAllString(strings.ReplaceAll(m[2], "{$}", ""), "{${1}}")
		routes = append(routes, m[1]+" "+path)
	}
	return routes
}

func TestOpenAPIDocument(t *testing.T) {
	doc := openAPIParse(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1") {
		t.Errorf("openapi = %q, want 3.1.x", v)
	}
	info := openAPIObject(t, doc, "info")
	for _, k := range []string{"title", "version"} {
		if s, _ := info[k].(string); s == "" {
			t.Errorf("info.%s is missing", k)
		}
	}
	// Pretty-printed with two spaces: re-indenting it changes nothing.
	var compact, pretty bytes.Buffer
	if err := json.Compact(&compact, openAPIDoc); err != nil {
		t.Fatal(err)
	}
	json.Indent(&pretty, compact.Bytes(), "", "  ")
	pretty.WriteByte('\n')
	if !bytes.Equal(pretty.Bytes(), openAPIDoc) {
		t.Error("openapi.json is not pretty-printed with 2-space indentation (and one final newline)")
	}
	schemes := openAPIObject(t, doc, "components", "securitySchemes")
	bearer := openAPIObject(t, schemes, "bearerAuth")
	if bearer["type"] != "http" || bearer["scheme"] != "bearer" {
		t.Errorf("securitySchemes.bearerAuth = %v, want http bearer", bearer)
	}
	schemas := openAPIObject(t, doc, "components", "schemas")
	for _, name := range []string{"Capabilities", "ModelSpec", "Limits", "Skeleton", "Joint", "GenerateRequest",
		"BatchRequest", "BatchResponse", "ErrorEnvelope", "Accepted", "JobStatus", "KimodoRequest", "Health",
		"Metadata", "License"} {
		if _, ok := schemas[name]; !ok {
			t.Errorf("components.schemas.%s is missing", name)
		}
	}
}

func TestOpenAPIRoutes(t *testing.T) {
	doc := openAPIParse(t)
	routes := serverRoutes(t)
	// Guard the regexp: server.go has a dozen routes, among them these.
	for _, want := range []string{"GET /capabilities", "POST /generate", "GET /generate/jobs/{id}", "GET /openapi.json"} {
		if !slices.Contains(routes, want) {
			t.Fatalf("found routes %q in server.go, missing %q: fix the pattern", routes, want)
		}
	}
	ops := openAPIOperations(t, doc)
	for _, r := range routes {
		if _, ok := ops[r]; !ok {
			t.Errorf("the server registers %s; openapi.json does not document it", r)
		}
	}
	for op := range ops {
		if !slices.Contains(routes, op) {
			t.Errorf("openapi.json documents %s; the server has no such route", op)
		}
	}

	// Every {param} of a path is declared as a required path parameter.
	wildcard := regexp.MustCompile(`\{(\w+)\}`)
	for path, item := range openAPIObject(t, doc, "paths") {
		pi := item.(map[string]any)
		for _, m := range openAPIMethods {
			op, ok := pi[m].(map[string]any)
			if !ok {
				continue
			}
			declared := map[string]bool{}
			for _, list := range []any{pi["parameters"], op["parameters"]} {
				ps, _ := list.([]any)
				for _, p := range ps {
					pm := openAPIDeref(t, doc, p)
					if pm["in"] == "path" && pm["required"] == true {
						declared[pm["name"].(string)] = true
					}
				}
			}
			for _, w := range wildcard.FindAllStringSubmatch(path, -1) {
				if !declared[w[1]] {
					t.Errorf("%s %s: path parameter %q is not declared (required, in: path)", strings.ToUpper(m), path, w[1])
				}
			}
		}
	}
}

func TestOpenAPIRefs(t *testing.T) {
	doc := openAPIParse(t)
	n := 0
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"]; ok {
				n++
				s, _ := ref.(string)
				if !strings.HasPrefix(s, "#/components/") {
					t.Errorf("%s: $ref %v is not a local component reference", where, ref)
				} else if _, ok := openAPIPointer(doc, s); !ok {
					t.Errorf("%s: $ref %q does not resolve", where, s)
				}
			}
			// Discriminator mappings name schemas by reference too.
			if d, ok := v["discriminator"].(map[string]any); ok {
				mapping, _ := d["mapping"].(map[string]any)
				for k, ref := range mapping {
					s, _ := ref.(string)
					if _, ok := openAPIPointer(doc, s); !ok {
						t.Errorf("%s: discriminator mapping %q → %v does not resolve", where, k, ref)
					}
				}
			}
			for k, e := range v {
				walk(where+"/"+k, e)
			}
		case []any:
			for i, e := range v {
				walk(where+"/"+strconv.Itoa(i), e)
			}
		}
	}
	walk("#", doc)
	if n == 0 {
		t.Error("no $ref in the document")
	}
}

// openAPIErrorExceptions are the error answers whose body is not the MMCP
// envelope, by design: the readiness probe answers 503 with its Health body.
var openAPIErrorExceptions = map[string]string{
	"GET /v1/health/ready 503": "#/components/schemas/Health",
}

func TestOpenAPIResponses(t *testing.T) {
	doc := openAPIParse(t)
	ops := openAPIOperations(t, doc)
	if len(ops) == 0 {
		t.Fatal("no operations")
	}
	ids := map[string]string{}
	for name, op := range ops {
		if id, _ := op["operationId"].(string); id == "" {
			t.Errorf("%s: no operationId", name)
		} else if other, dup := ids[id]; dup {
			t.Errorf("%s: operationId %q already used by %s", name, id, other)
		} else {
			ids[id] = name
		}
		responses, ok := op["responses"].(map[string]any)
		if !ok || len(responses) == 0 {
			t.Errorf("%s: no responses", name)
			continue
		}
		success := false
		codes := make([]string, 0, len(responses))
		for code := range responses {
			codes = append(codes, code)
		}
		sort.Strings(codes)
		for _, code := range codes {
			status, err := strconv.Atoi(code)
			if err != nil || status < 100 || status > 599 {
				t.Errorf("%s: response key %q is not an HTTP status", name, code)
				continue
			}
			where := fmt.Sprintf("%s %d", name, status)
			resp := openAPIDeref(t, doc, responses[code])
			if d, _ := resp["description"].(string); d == "" {
				t.Errorf("%s: no description", where)
			}
			headers, _ := resp["headers"].(map[string]any)
			// The server sends an X-Request-ID on every answer ...
			if _, ok := headers["X-Request-ID"]; !ok {
				t.Errorf("%s: X-Request-ID header not documented", where)
			}
			// ... and a Retry-After on every 202, 429 and 503.
			if status == 202 || status == 429 || status == 503 {
				if _, ok := headers["Retry-After"]; !ok {
					t.Errorf("%s: Retry-After header not documented", where)
				}
			}
			if status/100 == 2 {
				success = true
			}
			if status < 400 {
				continue
			}
			want := "#/components/schemas/ErrorEnvelope"
			if w, ok := openAPIErrorExceptions[where]; ok {
				want = w
			}
			content, _ := resp["content"].(map[string]any)
			media, _ := content["application/json"].(map[string]any)
			schema, _ := media["schema"].(map[string]any)
			if got, _ := schema["$ref"].(string); got != want {
				t.Errorf("%s: application/json schema is %v, want $ref %s", where, schema, want)
			}
		}
		if !success {
			t.Errorf("%s: no 2xx response", name)
		}
	}
	// The error codes are MMCP's, exactly: every code the server may send.
	body := openAPIObject(t, doc, "components", "schemas", "ErrorBody", "properties", "code")
	var enum []string
	for _, c := range body["enum"].([]any) {
		enum = append(enum, c.(string))
	}
	for _, code := range []string{request.CodeSchemaValidation, request.CodeUnknownModel,
		request.CodeRetargetingUnsupported, request.CodeUnsupportedConstraint, request.CodeUnsupportedSegment,
		request.CodeUnknownJoint, request.CodeInvalidSkeleton, request.CodeFrameOutOfRange,
		request.CodeInvalidRequest, request.CodeInvalidOptions, request.CodeVersionUnsupported,
		request.CodeUnauthorized, request.CodeForbidden, request.CodePayloadTooLarge, request.CodeRateLimited,
		request.CodeInternalError, request.CodeResourceExhausted, request.CodeModelUnavailable,
		request.CodeTimeout} {
		if !slices.Contains(enum, code) {
			t.Errorf("ErrorBody.code enum lacks %q", code)
		} else if _, ok := request.StatusOf(code); !ok {
			t.Errorf("%q is no MMCP code", code)
		}
	}
	if len(enum) != 19 {
		t.Errorf("ErrorBody.code enum has %d codes, want MMCP's 19: %q", len(enum), enum)
	}
}

// TestOpenAPISchemasMatchTypes holds the schemas to the wire types: the same
// JSON keys, and (for answers, which the server always fills) a field is
// required exactly when it has no omitempty.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc := openAPIParse(t)
	for _, c := range []struct {
		schema   string
		typ      any
		required bool // compare required with the fields lacking omitempty
	}{
		{"Capabilities", api.Capabilities{}, true},
		{"ModelSpec", api.ModelSpec{}, true},
		{"Limits", request.Limits{}, true},
		{"Skeleton", request.Skeleton{}, false},
		{"Joint", request.Joint{}, false},
		{"BatchItem", request.Request{}, false},
		{"TextSegment", request.Segment{}, false},
		{"Options", request.Options{}, false},
		{"Guidance", request.Guidance{}, false},
		{"Timing", request.Timing{}, false},
		{"VideoSource", request.VideoSource{}, false},
		{"BatchResponse", api.BatchResponse{}, true},
		{"BatchResult", api.BatchResult{}, false},
		{"ErrorEnvelope", api.ErrorEnvelope{}, true},
		{"ErrorBody", request.Error{}, true},
		{"Accepted", api.Accepted{}, true},
		{"JobStatus", api.JobStatus{}, true},
		{"KimodoRequest", api.KimodoRequest{}, false},
		{"Health", api.Health{}, true},
		{"Metadata", api.Metadata{}, true},
		{"ModelMetadata", api.ModelMetadata{}, true},
		{"DeviceInfo", api.DeviceInfo{}, true},
		{"License", api.License{}, true},
		{"MotionExtension", api.MotionExtension{}, true},
		{"MotionSample", api.MotionSample{}, true},
		{"Words", api.Words{}, true},
		{"MappedWord", api.MappedWord{}, true},
	} {
		t.Run(c.schema, func(t *testing.T) {
			s := openAPIObject(t, doc, "components", "schemas", c.schema)
			props := openAPIObject(t, s, "properties")
			var keys, req []string
			rt := reflect.TypeOf(c.typ)
			for i := range rt.NumField() {
				f := rt.Field(i)
				name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
				if !f.IsExported() || name == "-" || name == "" {
					continue
				}
				keys = append(keys, name)
				if !strings.Contains(opts, "omitempty") {
					req = append(req, name)
				}
			}
			var docKeys []string
			for k := range props {
				docKeys = append(docKeys, k)
			}
			sort.Strings(keys)
			sort.Strings(docKeys)
			switch {
			case c.schema == "TextSegment":
				// One member of the segment union: its keys are a subset.
				for _, k := range docKeys {
					if k != "type" && !slices.Contains(keys, k) {
						t.Errorf("property %q is not a field of %s", k, rt)
					}
				}
			case !slices.Equal(keys, docKeys):
				t.Errorf("properties %q, want the JSON keys of %s: %q", docKeys, rt, keys)
			}
			if !c.required {
				return
			}
			var docReq []string
			if r, ok := s["required"].([]any); ok {
				for _, k := range r {
					docReq = append(docReq, k.(string))
				}
			}
			sort.Strings(req)
			sort.Strings(docReq)
			if !slices.Equal(req, docReq) {
				t.Errorf("required %q, want the fields of %s without omitempty: %q", docReq, rt, req)
			}
		})
	}
}
