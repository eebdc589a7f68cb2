package hookrun

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEnvironmentDropsSecretsAndInheritedVariables(t *testing.T) {
	r := &Runner{Secrets: []string{"ACMECTL_EAB_HMAC_KEY", "SCM_PASSWORD"},
		Env: []string{"PATH=/bin:/usr/bin", "ACMECTL_EAB_HMAC_KEY=k", "SCM_PASSWORD=p", "CERTBOT_TOKEN=stale", "RENEWED_LINEAGE=stale", "KEEP=1"}}
	got := strings.Join(r.Environ([]string{"RENEWED_LINEAGE=/live/a"}), "\n")
	for _, gone := range []string{"ACMECTL_EAB_HMAC_KEY", "SCM_PASSWORD", "CERTBOT_TOKEN", "RENEWED_LINEAGE=stale"} {
		if strings.Contains(got, gone) {
			t.Errorf("environment holds %s:\n%s", gone, got)
		}
	}
	for _, kept := range []string{"PATH=/bin:/usr/bin", "KEEP=1", "RENEWED_LINEAGE=/live/a"} {
		if !strings.Contains(got, kept) {
			t.Errorf("environment lacks %s:\n%s", kept, got)
		}
	}
	res := r.ShellCommand(t.Context(), "pre-hook", "env", nil)
	if res.Err != nil || strings.Contains(res.Stdout, "SCM_PASSWORD") || !strings.Contains(res.Stdout, "KEEP=1") {
		t.Errorf("env run = %+v", res)
	}
}

func TestOutputRedactedAndBounded(t *testing.T) {
	r := &Runner{Redact: []string{"s3cr3t-value"}, Combined: true}
	res := r.ShellCommand(t.Context(), "deploy-hook", "echo out s3cr3t-value; echo err >&2; head -c 200000 /dev/zero | tr '\\0' x", nil)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if strings.Contains(res.Stdout, "s3cr3t-value") || !strings.Contains(res.Stdout, "out [redacted]") || !strings.Contains(res.Stdout, "err") {
		t.Errorf("output not redacted or not combined: %.80q", res.Stdout)
	}
	if len(res.Stdout) > MaxOutput {
		t.Errorf("output %d bytes, bound %d", len(res.Stdout), MaxOutput)
	}
}

func TestTimeoutKillsTheProcessGroup(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "child-survived")
	r := &Runner{Timeout: 300 * time.Millisecond}
	start := time.Now()
	res := r.ShellCommand(t.Context(), "pre-hook", "(sleep 2; touch "+marker+") & sleep 30", nil)
	if res.Err == nil || !strings.Contains(res.Err.Error(), "timed out") {
		t.Fatalf("err = %v, want a timeout", res.Err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s", d)
	}
	time.Sleep(2500 * time.Millisecond) // the child would have touched the marker by now
	if _, err := os.Stat(marker); err == nil {
		t.Error("the hook's child outlived the timeout")
	}
}

func TestBackgroundChildIsNotAFailure(t *testing.T) {
	r := &Runner{}
	start := time.Now()
	res := r.ShellCommand(t.Context(), "deploy-hook", "sleep 20 & echo started", nil)
	if res.Err != nil || !strings.Contains(res.Stdout, "started") {
		t.Errorf("a hook leaving a background process: %+v", res)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("waited %s for the background child", d)
	}
	fail := r.ShellCommand(t.Context(), "post-hook", "echo why >&2; exit 3", nil)
	if fail.Err == nil || !strings.Contains(fail.Err.Error(), "status 3: why") || fail.Cause == nil {
		t.Errorf("failing hook: %+v", fail)
	}
}
