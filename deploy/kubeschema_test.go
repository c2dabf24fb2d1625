package deploy

// The Kubernetes schemas the chart's manifests are checked against, and
// the checker. The schemas are vendored in testdata/kubernetes-schemas.json,
// cut down to the kinds the chart renders and the definitions they refer to
// (descriptions dropped). -update-kube-schemas regenerates the file from
// the Go modules named in kubeSchemaSources (go mod download fetches them
// through the module proxy):
//
//	go test ./deploy/ -run TestKubeSchemas -update-kube-schemas

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var updateKubeSchemas = flag.Bool("update-kube-schemas", false, "regenerate testdata/kubernetes-schemas.json from the Go modules that ship the schemas")

const kubeSchemaFile = "testdata/kubernetes-schemas.json"

// kubeSchemaSources are where the schemas come from.
var kubeSchemaSources = []struct{ Module, File, What string }{
	{"k8s.io/cli-runtime@v0.37.0", "artifacts/openapi/swagger.json", "the Kubernetes 1.37 OpenAPI (v2) document"},
	{"github.com/prometheus-operator/prometheus-operator@v0.85.0", "jsonnet/prometheus-operator/servicemonitors-crd.json", "the ServiceMonitor CRD's openAPIV3Schema"},
}

// kubeKinds maps apiVersion/kind to its definition in the OpenAPI document.
var kubeKinds = map[string]string{
	"v1/ConfigMap":                            "io.k8s.api.core.v1.ConfigMap",
	"v1/Secret":                               "io.k8s.api.core.v1.Secret",
	"v1/Service":                              "io.k8s.api.core.v1.Service",
	"v1/ServiceAccount":                       "io.k8s.api.core.v1.ServiceAccount",
	"v1/PersistentVolumeClaim":                "io.k8s.api.core.v1.PersistentVolumeClaim",
	"apps/v1/Deployment":                      "io.k8s.api.apps.v1.Deployment",
	"policy/v1/PodDisruptionBudget":           "io.k8s.api.policy.v1.PodDisruptionBudget",
	"networking.k8s.io/v1/Ingress":            "io.k8s.api.networking.v1.Ingress",
	"monitoring.coreos.com/v1/ServiceMonitor": "",
}

const quantityDef = "io.k8s.apimachinery.pkg.api.resource.Quantity"

// kubeSchemas is the vendored file.
type kubeSchemas struct {
	Sources     []string                   `json:"sources"`
	Kinds       map[string]json.RawMessage `json:"kinds"`
	Definitions map[string]json.RawMessage `json:"definitions"`

	kinds map[string]any
	defs  map[string]any
}

func loadKubeSchemas(t *testing.T) *kubeSchemas {
	t.Helper()
	b, err := os.ReadFile(kubeSchemaFile)
	if err != nil {
		t.Fatalf("%v (regenerate with -update-kube-schemas)", err)
	}
	var ks kubeSchemas
	if err := json.Unmarshal(b, &ks); err != nil {
		t.Fatal(err)
	}
	ks.kinds, ks.defs = map[string]any{}, map[string]any{}
	for k, raw := range ks.Kinds {
		var v any
		_ = json.Unmarshal(raw, &v)
		ks.kinds[k] = v
	}
	for k, raw := range ks.Definitions {
		var v any
		_ = json.Unmarshal(raw, &v)
		ks.defs[k] = v
	}
	return &ks
}

// validate checks one manifest and returns every problem with its path.
// Objects whose schema lists properties are closed, as with kubeconform
// -strict: an unknown field (a typo) is an error, not silently dropped.
func (ks *kubeSchemas) validate(doc map[string]any) []string {
	apiVersion, _ := doc["apiVersion"].(string)
	kind, _ := doc["kind"].(string)
	key := apiVersion + "/" + kind
	schema, ok := ks.kinds[key]
	if !ok {
		return []string{fmt.Sprintf("%s: no schema vendored for this kind (add it to kubeKinds and run -update-kube-schemas)", key)}
	}
	v := &schemaValidator{defs: ks.defs}
	v.check(doc, schema, "")
	meta, _ := doc["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	if !dns1123Subdomain.MatchString(name) || len(name) > 253 {
		v.errs = append(v.errs, fmt.Sprintf("metadata.name: %q is not a DNS-1123 subdomain", name))
	}
	for _, field := range []string{"labels"} {
		labels, _ := meta[field].(map[string]any)
		for k, val := range labels {
			s, _ := val.(string)
			if !labelValue.MatchString(s) {
				v.errs = append(v.errs, fmt.Sprintf("metadata.labels.%s: %q is not a valid label value", k, s))
			}
		}
	}
	return v.errs
}

var (
	dns1123Subdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	labelValue       = regexp.MustCompile(`^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$`)
)

type schemaValidator struct {
	defs map[string]any
	errs []string
}

func (v *schemaValidator) fail(path, format string, a ...any) {
	if path == "" {
		path = "(root)"
	}
	v.errs = append(v.errs, strings.TrimPrefix(path, ".")+": "+fmt.Sprintf(format, a...))
}

func (v *schemaValidator) check(val any, schemaAny any, path string) {
	s, _ := schemaAny.(map[string]any)
	if s == nil || val == nil {
		return // no constraint; null means "not set" to the API server
	}
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/definitions/")
		def, ok := v.defs[name]
		if !ok {
			v.fail(path, "schema refers to missing definition %s", name)
			return
		}
		if name == quantityDef {
			if _, isNum := val.(float64); isNum {
				return // 1, 0.5: the API server accepts numbers as quantities
			}
		}
		v.check(val, def, path)
		return
	}
	for _, key := range []string{"allOf"} {
		if subs, ok := s[key].([]any); ok {
			for _, sub := range subs {
				v.check(val, sub, path)
			}
		}
	}
	if subs, ok := s["anyOf"].([]any); ok && !v.anyMatches(val, subs, path) {
		return
	}
	if s["x-kubernetes-preserve-unknown-fields"] == true && s["properties"] == nil {
		return
	}
	intOrString := s["format"] == "int-or-string" || s["x-kubernetes-int-or-string"] == true
	if intOrString {
		switch x := val.(type) {
		case string:
		case float64:
			if x != math.Trunc(x) {
				v.fail(path, "%v is neither an integer nor a string", x)
			}
		default:
			v.fail(path, "expected an integer or a string, got %s", jsonKind(val))
		}
		return
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if fmt.Sprint(e) == fmt.Sprint(val) {
				found = true
			}
		}
		if !found {
			v.fail(path, "%v is not one of %v", val, enum)
		}
	}
	typ, _ := s["type"].(string)
	switch typ {
	case "object":
		obj, ok := val.(map[string]any)
		if !ok {
			v.fail(path, "expected an object, got %s", jsonKind(val))
			return
		}
		v.checkObject(obj, s, path)
	case "array":
		arr, ok := val.([]any)
		if !ok {
			v.fail(path, "expected an array, got %s", jsonKind(val))
			return
		}
		for i, item := range arr {
			v.check(item, s["items"], fmt.Sprintf("%s[%d]", path, i))
		}
	case "string":
		str, ok := val.(string)
		if !ok {
			v.fail(path, "expected a string, got %s", jsonKind(val))
			return
		}
		if p, ok := s["pattern"].(string); ok {
			if re, err := regexp.Compile(p); err == nil && !re.MatchString(str) {
				v.fail(path, "%q does not match %s", str, p)
			}
		}
		if n, ok := s["minLength"].(float64); ok && float64(len(str)) < n {
			v.fail(path, "%q is shorter than %v", str, n)
		}
	case "integer":
		n, ok := val.(float64)
		if !ok || n != math.Trunc(n) {
			v.fail(path, "expected an integer, got %s", jsonKind(val))
		}
	case "number":
		if _, ok := val.(float64); !ok {
			v.fail(path, "expected a number, got %s", jsonKind(val))
		}
	case "boolean":
		if _, ok := val.(bool); !ok {
			v.fail(path, "expected true or false, got %s", jsonKind(val))
		}
	case "":
		if s["properties"] != nil {
			if obj, ok := val.(map[string]any); ok {
				v.checkObject(obj, s, path)
			}
		}
	}
}

func (v *schemaValidator) checkObject(obj map[string]any, s map[string]any, path string) {
	props, _ := s["properties"].(map[string]any)
	for _, r := range asStrings(s["required"]) {
		if _, ok := obj[r]; !ok {
			v.fail(path+"."+r, "required")
		}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if ps, ok := props[k]; ok {
			v.check(obj[k], ps, path+"."+k)
			continue
		}
		switch ap := s["additionalProperties"].(type) {
		case map[string]any:
			v.check(obj[k], ap, path+"."+k)
		case bool:
			if !ap {
				v.fail(path+"."+k, "unknown field")
			}
		default:
			if len(props) > 0 && s["x-kubernetes-preserve-unknown-fields"] != true {
				v.fail(path+"."+k, "unknown field")
			}
		}
	}
}

func (v *schemaValidator) anyMatches(val any, subs []any, path string) bool {
	var first []string
	for i, sub := range subs {
		trial := &schemaValidator{defs: v.defs}
		trial.check(val, sub, path)
		if len(trial.errs) == 0 {
			return true
		}
		if i == 0 {
			first = trial.errs
		}
	}
	v.errs = append(v.errs, first...)
	return false
}

func asStrings(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func jsonKind(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return fmt.Sprintf("the string %q", x)
	case float64:
		return fmt.Sprintf("the number %v", x)
	case bool:
		return fmt.Sprintf("%v", x)
	}
	return "null"
}

// The checker finds what it must: unknown fields, wrong types, missing
// required fields, bad enum values and a kind it has no schema for.
func TestKubeSchemaCheckerCatchesMistakes(t *testing.T) {
	ks := loadKubeSchemas(t)
	good := func() map[string]any {
		return map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "nova", "labels": map[string]any{"app": "nova"}},
			"spec": map[string]any{
				"replicas": float64(1),
				"selector": map[string]any{"matchLabels": map[string]any{"app": "nova"}},
				"template": map[string]any{
					"metadata": map[string]any{"labels": map[string]any{"app": "nova"}},
					"spec": map[string]any{"containers": []any{map[string]any{
						"name": "nova", "image": "nova:1", "imagePullPolicy": "IfNotPresent",
						"ports":         []any{map[string]any{"name": "http", "containerPort": float64(8080)}},
						"resources":     map[string]any{"requests": map[string]any{"cpu": "100m", "memory": float64(1)}},
						"livenessProbe": map[string]any{"httpGet": map[string]any{"path": "/healthz", "port": "http"}},
					}}},
				},
			},
		}
	}
	if errs := ks.validate(good()); len(errs) > 0 {
		t.Fatalf("a valid Deployment fails: %v", errs)
	}
	cases := []struct {
		name   string
		mutate func(d map[string]any)
		want   string
	}{
		{"typo", func(d map[string]any) { d["spec"].(map[string]any)["replicass"] = float64(2) }, "spec.replicass: unknown field"},
		{"type", func(d map[string]any) { d["spec"].(map[string]any)["replicas"] = "two" }, `spec.replicas: expected an integer, got the string "two"`},
		{"required", func(d map[string]any) { delete(d["spec"].(map[string]any), "selector") }, "spec.selector: required"},
		{"enum", func(d map[string]any) { container(d)["imagePullPolicy"] = "Sometimes" }, "imagePullPolicy: Sometimes is not one of"},
		{"int or string", func(d map[string]any) {
			container(d)["livenessProbe"].(map[string]any)["httpGet"].(map[string]any)["port"] = true
		}, "httpGet.port: expected an integer or a string"},
		{"deep typo", func(d map[string]any) {
			container(d)["securityContext"] = map[string]any{"readOnlyRootFileSystem": true}
		}, "securityContext.readOnlyRootFileSystem: unknown field"},
		{"name", func(d map[string]any) { d["metadata"].(map[string]any)["name"] = "Nova_1" }, `metadata.name: "Nova_1" is not a DNS-1123 subdomain`},
		{"label", func(d map[string]any) { d["metadata"].(map[string]any)["labels"] = map[string]any{"v": "1.0+build"} }, "is not a valid label value"},
		{"kind", func(d map[string]any) { d["kind"] = "StatefulSet" }, "apps/v1/StatefulSet: no schema vendored"},
	}
	for _, tc := range cases {
		d := good()
		tc.mutate(d)
		errs := strings.Join(ks.validate(d), "\n")
		if !strings.Contains(errs, tc.want) {
			t.Errorf("%s: errors %q, want one containing %q", tc.name, errs, tc.want)
		}
	}
}

func container(d map[string]any) map[string]any {
	return d["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
}

// TestKubeSchemas regenerates the vendored schemas with -update-kube-schemas
// and otherwise checks that every kind has one.
func TestKubeSchemas(t *testing.T) {
	if *updateKubeSchemas {
		writeKubeSchemas(t)
	}
	ks := loadKubeSchemas(t)
	for k := range kubeKinds {
		if _, ok := ks.kinds[k]; !ok {
			t.Errorf("%s has no vendored schema: run with -update-kube-schemas", k)
		}
	}
}

func writeKubeSchemas(t *testing.T) {
	dirs := map[string]string{}
	for _, src := range kubeSchemaSources {
		out, err := exec.Command("go", "mod", "download", "-json", src.Module).Output()
		if err != nil {
			t.Fatalf("go mod download %s: %v", src.Module, err)
		}
		var m struct{ Dir string }
		if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
			t.Fatalf("go mod download %s: %s", src.Module, out)
		}
		dirs[src.Module] = m.Dir
	}
	read := func(i int) map[string]any {
		b, err := os.ReadFile(filepath.Join(dirs[kubeSchemaSources[i].Module], kubeSchemaSources[i].File))
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	openapi := read(0)
	all := openapi["definitions"].(map[string]any)
	defs := map[string]any{}
	var visit func(v any)
	visit = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if _, prose := x["description"].(string); prose {
				delete(x, "description") // a field named description is a schema, kept
			}
			if ref, ok := x["$ref"].(string); ok {
				name := strings.TrimPrefix(ref, "#/definitions/")
				if _, seen := defs[name]; !seen {
					defs[name] = all[name]
					visit(all[name])
				}
			}
			for _, c := range x {
				visit(c)
			}
		case []any:
			for _, c := range x {
				visit(c)
			}
		}
	}
	kinds := map[string]any{}
	for k, def := range kubeKinds {
		if def == "" {
			continue
		}
		ref := map[string]any{"$ref": "#/definitions/" + def}
		kinds[k] = ref
		visit(ref)
	}
	crd := read(1)
	for _, ver := range crd["spec"].(map[string]any)["versions"].([]any) {
		vm := ver.(map[string]any)
		if vm["name"] == "v1" {
			s := vm["schema"].(map[string]any)["openAPIV3Schema"]
			visit(s)
			kinds["monitoring.coreos.com/v1/ServiceMonitor"] = s
		}
	}
	var sources []string
	for _, src := range kubeSchemaSources {
		sources = append(sources, fmt.Sprintf("%s %s (%s)", src.Module, src.File, src.What))
	}
	b, err := json.MarshalIndent(map[string]any{
		"sources": sources, "kinds": kinds, "definitions": defs,
	}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kubeSchemaFile, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: %d kinds, %d definitions, %d bytes", kubeSchemaFile, len(kinds), len(defs), len(b))
}
