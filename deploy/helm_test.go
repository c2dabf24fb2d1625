package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/novasre/nova/config"
)

const (
	chartDir = "helm/nova"
	// kubeVersion is what helm lint and template render for (a Helm built
	// with go install reports v1.20 otherwise, below the chart's minimum).
	kubeVersion = "1.33.0"
)

// tool finds a command on PATH or in $(go env GOPATH)/bin. Under CI=true a
// missing tool fails the test: .ci/run installs it.
func tool(t *testing.T, name, install string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed; .ci/run installs it with: %s", name, install)
	}
	t.Skipf("%s is not installed (install: %s; .ci/run does)", name, install)
	return ""
}

func helmBin(t *testing.T) string {
	return tool(t, "helm", "go install helm.sh/helm/v3/cmd/helm@v3.22.0")
}

// helm runs helm and returns stdout, or the error with stderr.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBin(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	if err := cmd.Run(); err != nil {
		return out.String(), errors.New(err.Error() + ": " + errb.String())
	}
	return out.String(), nil
}

var valueSets = []string{"ci/bolt-values.yaml", "ci/redis-ha-values.yaml"}

func TestHelmLint(t *testing.T) {
	for _, vs := range valueSets {
		out, err := helm(t, "lint", "--strict", "--kube-version", kubeVersion, chartDir, "-f", filepath.Join(chartDir, vs))
		if err != nil || !strings.Contains(out, "0 chart(s) failed") {
			t.Errorf("helm lint with %s: %v\n%s", vs, err, out)
		}
	}
}

// render runs helm template and decodes every manifest.
func render(t *testing.T, args ...string) []map[string]any {
	t.Helper()
	out, err := helm(t, append([]string{"template", "nova", chartDir, "--kube-version", kubeVersion}, args...)...)
	if err != nil {
		t.Fatalf("helm template %v: %v", args, err)
	}
	var docs []map[string]any
	dec := yaml.NewDecoder(strings.NewReader(out))
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("helm template output is not YAML: %v", err)
		}
		if d != nil {
			docs = append(docs, toJSONTypes(d).(map[string]any))
		}
	}
	return docs
}

// toJSONTypes turns yaml's ints into float64, as JSON decoding would.
func toJSONTypes(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			x[k] = toJSONTypes(c)
		}
		return x
	case []any:
		for i, c := range x {
			x[i] = toJSONTypes(c)
		}
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	}
	return v
}

func byKind(docs []map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, d := range docs {
		out[d["kind"].(string)] = d
	}
	return out
}

// Every rendered manifest matches the Kubernetes schema of its kind.
func TestHelmTemplateMatchesKubernetesSchemas(t *testing.T) {
	ks := loadKubeSchemas(t)
	wantKinds := map[string][]string{
		"ci/bolt-values.yaml":     {"ServiceAccount", "Secret", "ConfigMap", "PersistentVolumeClaim", "Service", "Deployment"},
		"ci/redis-ha-values.yaml": {"PodDisruptionBudget", "ServiceAccount", "ConfigMap", "Service", "Deployment", "Ingress", "ServiceMonitor"},
	}
	for _, vs := range valueSets {
		docs := render(t, "-f", filepath.Join(chartDir, vs))
		var kinds []string
		for _, d := range docs {
			kinds = append(kinds, d["kind"].(string))
			for _, e := range ks.validate(d) {
				t.Errorf("%s: %s %v: %s", vs, d["kind"], d["metadata"].(map[string]any)["name"], e)
			}
		}
		if strings.Join(kinds, ",") != strings.Join(wantKinds[vs], ",") {
			t.Errorf("%s renders %v, want %v", vs, kinds, wantKinds[vs])
		}
	}
}

// The Deployment has the probes, hardening and wiring the README promises,
// and its configuration is a valid Nova configuration without secrets.
func TestHelmDeploymentIsHardenedAndWired(t *testing.T) {
	values, err := os.ReadFile(filepath.Join(chartDir, "ci/bolt-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Secrets map[string]string }
	if err := yaml.Unmarshal(values, &v); err != nil {
		t.Fatal(err)
	}
	k := byKind(render(t, "-f", filepath.Join(chartDir, "ci/bolt-values.yaml")))
	dep := k["Deployment"]
	spec := dig(dep, "spec", "template", "spec").(map[string]any)
	c := dig(spec, "containers").([]any)[0].(map[string]any)
	checks := []struct {
		what string
		got  any
		want any
	}{
		{"liveness path", dig(c, "livenessProbe", "httpGet", "path"), "/healthz"},
		{"readiness path", dig(c, "readinessProbe", "httpGet", "path"), "/readyz"},
		{"runAsNonRoot", dig(spec, "securityContext", "runAsNonRoot"), true},
		{"readOnlyRootFilesystem", dig(c, "securityContext", "readOnlyRootFilesystem"), true},
		{"allowPrivilegeEscalation", dig(c, "securityContext", "allowPrivilegeEscalation"), false},
		{"capabilities dropped", dig(c, "securityContext", "capabilities", "drop").([]any)[0], "ALL"},
		{"service account token", dig(spec, "automountServiceAccountToken"), false},
		{"strategy on bolt", dig(dep, "spec", "strategy", "type"), "Recreate"},
		{"data volume", dig(spec, "volumes").([]any)[2].(map[string]any)["persistentVolumeClaim"].(map[string]any)["claimName"], "nova"},
		{"resources", dig(c, "resources", "limits", "memory"), "512Mi"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.what, ch.got, ch.want)
		}
	}
	if dig(dep, "spec", "template", "metadata", "annotations", "checksum/config") == nil {
		t.Error("no checksum/config annotation: a config change would not roll the pods")
	}

	novaYAML := dig(k["ConfigMap"], "data", "nova.yaml").(string)
	for name, secret := range v.Secrets {
		if strings.Contains(novaYAML, secret) {
			t.Errorf("the ConfigMap holds the value of secret %s", name)
		}
		if enc, _ := dig(k["Secret"], "data", name).(string); enc == "" {
			t.Errorf("the Secret lacks %s", name)
		}
	}
	cfg, err := config.ParseWith([]byte(novaYAML), func(string) (string, bool) { return "", false }, config.Options{Offline: true})
	if err != nil {
		t.Fatalf("the chart's nova.yaml is not a valid Nova configuration: %v\n%s", err, novaYAML)
	}
	if cfg.Listen != ":8080" || cfg.Store.Path != "/data/nova.db" {
		t.Errorf("listen %q, store path %q", cfg.Listen, cfg.Store.Path)
	}
	if ws := cfg.Warnings(); len(ws) > 0 {
		t.Errorf("the chart's nova.yaml has warnings: %v", ws)
	}

	// A different configuration changes the checksum, so the pods roll.
	k2 := byKind(render(t, "-f", filepath.Join(chartDir, "ci/bolt-values.yaml"), "--set", "config.tier=standard", "--set", "config.actions=null"))
	if dig(k2["Deployment"], "spec", "template", "metadata", "annotations", "checksum/config") == dig(dep, "spec", "template", "metadata", "annotations", "checksum/config") {
		t.Error("checksum/config did not change with the configuration")
	}

	// Redis: rolling updates that keep every replica serving, a PDB, no PVC.
	k3 := byKind(render(t, "-f", filepath.Join(chartDir, "ci/redis-ha-values.yaml")))
	if got := dig(k3["Deployment"], "spec", "strategy", "rollingUpdate", "maxUnavailable"); got != float64(0) {
		t.Errorf("maxUnavailable on redis = %v", got)
	}
	if _, ok := k3["PersistentVolumeClaim"]; ok {
		t.Error("a PVC on the redis backend")
	}
	if got := dig(k3["Deployment"], "spec", "template", "spec", "volumes").([]any)[1].(map[string]any)["secret"].(map[string]any)["secretName"]; got != "nova-secrets" {
		t.Errorf("existingSecret not mounted: %v", got)
	}
	paths := dig(k3["Ingress"], "spec", "rules").([]any)[0].(map[string]any)["http"].(map[string]any)["paths"].([]any)
	for _, p := range paths {
		if path := p.(map[string]any)["path"].(string); path == "/" || strings.HasPrefix(path, "/metrics") || strings.HasPrefix(path, "/api") {
			t.Errorf("the Ingress exposes %s", path)
		}
	}
}

// The chart refuses values that cannot work, naming the fix.
func TestHelmChartRefusesWhatCannotWork(t *testing.T) {
	bolt := filepath.Join(chartDir, "ci/bolt-values.yaml")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"replicas on bolt", []string{"-f", bolt, "--set", "replicaCount=2"}, "replicaCount is 2, but config.store.backend is bolt: several replicas need Redis"},
		{"redis without a URL", []string{"-f", bolt, "--set", "replicaCount=2", "--set", "config.store.backend=redis"}, "neither config.store.url nor config.store.addrs is set"},
		{"literal secret", []string{"-f", bolt, "--set", "config.environments.prod.pagerduty.token=pd-literal-token"}, "config.environments.prod.pagerduty.token holds a literal value"},
		{"missing key", []string{"-f", bolt, "--set", "config.environments.prod.slack.app_token=${file:/etc/nova/secrets/slack-app-token}"}, `.Values.secrets has no key "slack-app-token"`},
		{"outside the mount", []string{"-f", bolt, "--set", "config.triage.llm.api_key=${file:/etc/passwd}"}, "reads /etc/passwd, outside the mounted Secret /etc/nova/secrets"},
		{"writable root", []string{"-f", bolt, "--set", "securityContext.readOnlyRootFilesystem=false"}, "readOnlyRootFilesystem"},
		{"root user", []string{"-f", bolt, "--set", "podSecurityContext.runAsNonRoot=false"}, "runAsNonRoot"},
		{"listen set", []string{"-f", bolt, "--set", "config.listen=:9999"}, "listen"},
		{"unknown value", []string{"-f", bolt, "--set", "replicas=2"}, "replicas"},
	}
	for _, tc := range cases {
		_, err := helm(t, append([]string{"template", "nova", chartDir, "--kube-version", kubeVersion}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}
