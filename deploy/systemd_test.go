package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The unit passes systemd-analyze verify without a single complaint (an
// unknown or misspelt directive is only a warning there, so any output
// fails), keeps its hardening (exposure at most 2.0 of 10 in
// systemd-analyze security), reloads with SIGHUP and keeps state in its
// StateDirectory.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze := tool(t, "systemd-analyze", "apt-get install systemd")
	unit, err := os.ReadFile("systemd/nova.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ExecReload=/bin/kill -HUP $MAINPID", "DynamicUser=yes", "StateDirectory=nova", "ProtectSystem=strict",
		"NoNewPrivileges=yes", "ExecStart=/usr/local/bin/nova serve --config /etc/nova/nova.yaml",
	} {
		if !bytes.Contains(unit, []byte(want+"\n")) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	// verify checks that ExecStart is executable: point it at this test
	// binary instead of /usr/local/bin/nova, which is not installed here.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "nova.service")
	if err := os.WriteFile(path, bytes.ReplaceAll(unit, []byte("/usr/local/bin/nova"), []byte(exe)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command(analyze, "security", "--offline=true", "--threshold=20", path).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security: exposure above 2.0 (%v)\n%s", err, lastLines(string(out), 3))
	}

	// The checker is not lenient: a misspelt directive is caught.
	bad := filepath.Join(dir, "bad.service")
	_ = os.WriteFile(bad, []byte("[Service]\nExecStart="+exe+"\nProtectSystm=strict\n"), 0o644)
	if out, _ := exec.Command(analyze, "verify", bad).CombinedOutput(); !bytes.Contains(out, []byte("Unknown key")) {
		t.Errorf("systemd-analyze verify missed a misspelt key: %s", out)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
