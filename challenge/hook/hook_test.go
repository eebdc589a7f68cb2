package hook

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

var (
	_ interface {
		Present(ctx context.Context, domain, token, keyAuth string) error
		CleanUp(ctx context.Context, domain, token, keyAuth string) error
	} = (*Hook)(nil)
	_ interface {
		Plan(ctx context.Context, domains []string) error
	} = (*Hook)(nil)
)

// recorder is a hook command that appends its CERTBOT_* environment, one
// "phase|K=V|K=V..." line per run, to a file.
func recorder(t *testing.T, phase string) (cmd, file string) {
	t.Helper()
	file = filepath.Join(t.TempDir(), "env.log")
	script := filepath.Join(t.TempDir(), "rec.sh")
	body := `#!/bin/sh
line="$1"
for v in $(env | grep '^CERTBOT_' | cut -d= -f1 | sort); do line="$line|$v=$(printenv "$v")"; done
echo "$line" >> "$2"
echo "  output of $CERTBOT_DOMAIN  "
`
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script + " " + phase + " " + file, file
}

func readRuns(t *testing.T, file string) []map[string]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var runs []map[string]string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.Split(line, "|")
		m := map[string]string{"phase": parts[0]}
		for _, kv := range parts[1:] {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
		runs = append(runs, m)
	}
	return runs
}

func TestHookEnvironment(t *testing.T) {
	for _, typ := range []string{HTTP01, DNS01} {
		t.Run(typ, func(t *testing.T) {
			auth, file := recorder(t, "auth")
			cleanupCmd := strings.Replace(auth, " auth ", " cleanup ", 1)
			h := &Hook{Type: typ, AuthHook: auth, CleanupHook: cleanupCmd,
				// A stale CERTBOT_TOKEN / AUTH_OUTPUT in our own environment must not leak.
				Env: append(os.Environ(), "CERTBOT_TOKEN=stale", "CERTBOT_AUTH_OUTPUT=stale")}
			ctx := t.Context()
			domains := []string{"a.example", "b.example", "192.0.2.1"}
			if err := h.Plan(ctx, domains); err != nil {
				t.Fatal(err)
			}
			for _, d := range domains {
				if err := h.Present(ctx, d, "tok-"+d, "tok-"+d+".thumb"); err != nil {
					t.Fatal(err)
				}
			}
			for _, d := range domains {
				if err := h.CleanUp(ctx, d, "tok-"+d, "tok-"+d+".thumb"); err != nil {
					t.Fatal(err)
				}
			}
			runs := readRuns(t, file)
			if len(runs) != 6 {
				t.Fatalf("%d hook runs, want 6: %v", len(runs), runs)
			}
			for i, r := range runs {
				d := domains[i%3]
				want := map[string]string{
					"phase":                        "auth",
					"CERTBOT_DOMAIN":               d,
					"CERTBOT_IDENTIFIER":           d,
					"CERTBOT_VALIDATION":           Validation(typ, "tok-"+d+".thumb"),
					"CERTBOT_ALL_DOMAINS":          "a.example,b.example,192.0.2.1",
					"CERTBOT_ALL_IDENTIFIERS":      "a.example,b.example,192.0.2.1",
					"CERTBOT_REMAINING_CHALLENGES": []string{"2", "1", "0"}[i%3],
				}
				if typ == HTTP01 {
					want["CERTBOT_TOKEN"] = "tok-" + d
				}
				if i >= 3 {
					want["phase"] = "cleanup"
					want["CERTBOT_AUTH_OUTPUT"] = "output of " + d
				}
				if !reflect.DeepEqual(r, want) {
					t.Errorf("run %d:\n got %v\nwant %v", i, r, want)
				}
			}
		})
	}
}

func TestValidation(t *testing.T) {
	// RFC 8555 §8.4: base64url(SHA-256(keyAuth)), no padding.
	const keyAuth = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
	if got, want := Validation(DNS01, keyAuth), "lCM7cZyQXcVHK2nnW3jjAhNT3Fvm18UN-kWZZknKoYM"; got != want {
		// want computed independently: printf %s "$keyAuth" | openssl dgst -sha256 -binary | basenc --base64url | tr -d =
		t.Errorf("Validation(dns-01) = %q, want %q", got, want)
	}
	if got := Validation(HTTP01, keyAuth); got != keyAuth {
		t.Errorf("Validation(http-01) = %q, want the key authorization", got)
	}
}

func TestHookFailures(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "cleaned")
	tests := []struct {
		name    string
		hook    *Hook
		wantErr []string
		cleaned bool // the cleanup hook must still have run
	}{
		{
			name:    "auth exits 1",
			hook:    &Hook{Type: DNS01, AuthHook: `echo "zone example.test is locked" >&2; exit 1`, CleanupHook: "touch " + marker},
			wantErr: []string{"manual-auth-hook for a.example", "exited with status 1", "zone example.test is locked"},
			cleaned: true,
		},
		{
			name:    "auth exits 3 without stderr",
			hook:    &Hook{Type: HTTP01, AuthHook: "exit 3", CleanupHook: "touch " + marker},
			wantErr: []string{"status 3", "(no stderr)"},
			cleaned: true,
		},
		{
			name:    "auth times out",
			hook:    &Hook{Type: HTTP01, AuthHook: "echo slow >&2; sleep 30", CleanupHook: "touch " + marker, Timeout: 300 * time.Millisecond},
			wantErr: []string{"timed out after 300ms", "slow"},
			cleaned: true,
		},
		{
			name:    "no auth hook",
			hook:    &Hook{Type: HTTP01},
			wantErr: []string{"--manual-auth-hook"},
		},
		{
			name:    "bad type",
			hook:    &Hook{Type: "tls-alpn-01", AuthHook: "true"},
			wantErr: []string{"unsupported challenge type"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(marker)
			h := tc.hook
			start := time.Now()
			err := h.Present(t.Context(), "a.example", "tok", "tok.ka")
			if err == nil {
				t.Fatal("Present = nil, want error")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if time.Since(start) > 10*time.Second {
				t.Errorf("Present took %s", time.Since(start))
			}
			if err := h.CleanUp(t.Context(), "a.example", "tok", "tok.ka"); err != nil {
				t.Errorf("CleanUp = %v", err)
			}
			if _, statErr := os.Stat(marker); (statErr == nil) != tc.cleaned {
				t.Errorf("cleanup hook ran = %v, want %v", statErr == nil, tc.cleaned)
			}
		})
	}
}

func TestHookCleanupFailureShowsStderr(t *testing.T) {
	h := NewHTTP01("true", "echo cannot remove >&2; exit 2")
	if err := h.Present(t.Context(), "a.example", "tok", "ka"); err != nil {
		t.Fatal(err)
	}
	err := h.CleanUp(t.Context(), "a.example", "tok", "ka")
	if err == nil || !strings.Contains(err.Error(), "manual-cleanup-hook") || !strings.Contains(err.Error(), "cannot remove") {
		t.Fatalf("CleanUp = %v", err)
	}
	// Unknown challenge: nil, and the hook does not run again.
	if err := h.CleanUp(t.Context(), "a.example", "tok", "ka"); err != nil {
		t.Errorf("second CleanUp = %v", err)
	}
}

func TestHookBackgroundChildDoesNotBlock(t *testing.T) {
	h := NewHTTP01("sleep 30 & echo started", "")
	start := time.Now()
	if err := h.Present(t.Context(), "a.example", "tok", "ka"); err != nil {
		t.Fatalf("Present = %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Present waited %s for a background child", d)
	}
}

func TestHookRunsSerially(t *testing.T) {
	dir := t.TempDir()
	// Each run fails if another one is in progress.
	auth := `mkdir "` + dir + `/lock" || { echo concurrent >&2; exit 1; }; sleep 0.1; rmdir "` + dir + `/lock"`
	h := NewDNS01(auth, "")
	names := []string{"a.example", "b.example", "c.example", "d.example"}
	if err := h.Plan(t.Context(), names); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, len(names))
	for _, n := range names {
		go func() { errs <- h.Present(context.Background(), n, "tok", "ka") }()
	}
	var got []string
	for range names {
		if err := <-errs; err != nil {
			got = append(got, err.Error())
		}
	}
	sort.Strings(got)
	if len(got) != 0 {
		t.Errorf("concurrent Present: %v", got)
	}
}

func TestHookCancelled(t *testing.T) {
	h := NewHTTP01("sleep 30", "")
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := h.Present(ctx, "a.example", "tok", "ka")
	if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") {
		t.Errorf("Present with expiring ctx = %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
}
