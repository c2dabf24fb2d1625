package deploy

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// `make image` builds the FROM-scratch image offline from this checkout,
// and the image runs Nova non-root on a read-only root file system, with
// its bolt store in /data, answering /healthz and /readyz.
func TestContainerImageBuildsAndServes(t *testing.T) {
	podman := tool(t, "podman", "apt-get install podman runc")
	name := "localhost/nova-test:" + randomHex(4)
	make_ := exec.Command("make", "-C", "..", "image", "IMAGE="+name, "CONTAINER="+podman)
	if out, err := make_.CombinedOutput(); err != nil {
		t.Fatalf("make image: %v\n%s", err, lastLines(string(out), 20))
	}
	t.Cleanup(func() { _ = exec.Command(podman, "rmi", "-f", name).Run() })

	out, err := exec.Command(podman, "image", "inspect", name, "--format", "{{.Config.User}} {{json .Config.Entrypoint}} {{json .Config.Volumes}}").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "65532:65532 [\"/nova\"]") || !strings.Contains(string(out), "/data") {
		t.Fatalf("image config: %v %s", err, out)
	}

	runtime := ociRuntime(t, podman, name)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "nova.yaml")
	if err := os.WriteFile(cfg, []byte(`store: { backend: bolt, path: /data/nova.db }
environments:
  prod:
    pagerduty: { token: "${PD_TOKEN}", from: bot@example.com, webhook_secrets: ["${PD_WEBHOOK_SECRET}"] }
`), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	container := "nova-test-" + randomHex(4)
	args := append(runtime, "run", "-d", "--name", container, "--read-only",
		"-p", fmt.Sprintf("127.0.0.1:%d:8080", port),
		"-e", "PD_TOKEN=pd-token-for-the-image-test", "-e", "PD_WEBHOOK_SECRET=webhook-secret-for-the-image-test",
		"-v", cfg+":/etc/nova/nova.yaml:ro", name)
	if out, err := exec.Command(podman, args...).CombinedOutput(); err != nil {
		t.Fatalf("podman run: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(podman, append(runtime, "rm", "-f", "-t", "5", container)...).Run() })

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			logs, _ := exec.Command(podman, "logs", container).CombinedOutput()
			t.Fatalf("/healthz did not answer 200 within 30 s (%v)\n%s", err, lastLines(string(logs), 20))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Ready means the bolt store opened in /data: writable for the non-root
	// user although the root file system is read-only.
	resp, err := client.Get(base + "/readyz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz: %v %v", err, resp)
	}
	resp.Body.Close()
	logs, _ := exec.Command(podman, "logs", container).CombinedOutput()
	if !strings.Contains(string(logs), `"msg":"nova listening"`) || strings.Contains(string(logs), "pd-token-for-the-image-test") {
		t.Errorf("container logs:\n%s", logs)
	}
}

// ociRuntime returns the podman flags to run containers here. Where the
// machine refuses setrlimit to containers (no CAP_SYS_RESOURCE, as in this
// project's sandbox) podman's default rlimits make every run fail; then the
// run goes through runc behind a wrapper that drops process.rlimits from the
// OCI spec and changes nothing else.
func ociRuntime(t *testing.T, podman, image string) []string {
	t.Helper()
	out, err := exec.Command(podman, "run", "--rm", image, "version").CombinedOutput()
	if err == nil && strings.HasPrefix(string(out), "nova ") {
		return nil
	}
	if !strings.Contains(string(out), "rlimit") {
		t.Fatalf("podman run %s version: %v\n%s", image, err, out)
	}
	runc, lerr := exec.LookPath("runc")
	if lerr != nil {
		t.Fatalf("podman cannot set rlimits here and runc is missing (apt-get install runc): %s", out)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte(rlimitWrapper(runc)), 0o644); err != nil {
		t.Fatal(err)
	}
	wrapper := filepath.Join(dir, "runc") // podman picks runtime features by this name
	build := exec.Command("go", "build", "-o", wrapper, src)
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GO111MODULE=on")
	build.Dir = dir
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module rlimitwrapper\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the runtime wrapper: %v\n%s", err, out)
	}
	t.Logf("podman cannot set rlimits here (%s); running through runc without process.rlimits", strings.TrimSpace(lastLines(string(out), 1)))
	flags := []string{"--runtime", wrapper}
	if out, err := exec.Command(podman, append(flags, "run", "--rm", image, "version")...).CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "nova ") {
		t.Fatalf("podman run through the wrapper: %v\n%s", err, out)
	}
	return flags
}

func rlimitWrapper(runc string) string {
	return `package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
)

// An OCI runtime wrapper: removes process.rlimits from the bundle's
// config.json, then runs ` + runc + ` with the same arguments.
func main() {
	for i, a := range os.Args {
		if (a == "--bundle" || a == "-b") && i+1 < len(os.Args) {
			p := filepath.Join(os.Args[i+1], "config.json")
			if b, err := os.ReadFile(p); err == nil {
				var spec map[string]any
				if json.Unmarshal(b, &spec) == nil {
					if proc, ok := spec["process"].(map[string]any); ok {
						delete(proc, "rlimits")
					}
					if nb, err := json.Marshal(spec); err == nil {
						_ = os.WriteFile(p, nb, 0o600)
					}
				}
			}
		}
	}
	args := append([]string{"runc"}, os.Args[1:]...)
	if err := syscall.Exec("` + runc + `", args, os.Environ()); err != nil {
		os.Stderr.WriteString("runc wrapper: " + err.Error() + "\n")
		os.Exit(127)
	}
}
`
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
