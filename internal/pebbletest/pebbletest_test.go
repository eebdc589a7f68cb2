package pebbletest

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStartServesDirectory(t *testing.T) {
	s := Start(t, Options{EAB: map[string]string{"kid-1": "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"}})
	resp, err := s.HTTPClient().Get(s.DirectoryURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var dir struct {
		NewNonce string `json:"newNonce"`
		Meta     struct {
			EAB bool `json:"externalAccountRequired"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(b, &dir); err != nil {
		t.Fatalf("directory: %v: %s", err, b)
	}
	if dir.NewNonce == "" || !dir.Meta.EAB {
		t.Errorf("directory = %s, want newNonce and externalAccountRequired", b)
	}
	if len(s.IssuerRoot(t, 0)) == 0 {
		t.Error("no issuer root")
	}
	s.ChallSrv(t, "set-txt", map[string]string{"host": "_acme-challenge.a.example.", "value": "x"})
}

// TestOwnDNSCheck: a DNS port held by another process (what a port race
// between parallel test binaries leaves) is told apart from ours.
func TestOwnDNSCheck(t *testing.T) {
	s := Start(t, Options{})
	if err := s.checkOwnDNS(); err != nil {
		t.Fatalf("our own challtestsrv: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close() // what Pebble's VA saw: EOF
		}
	}()
	other := &Server{DNSAddr: ln.Addr().String(), ChallSrvURL: s.ChallSrvURL}
	if err := other.checkOwnDNS(); !errors.Is(err, errNotOurDNS) {
		t.Errorf("a foreign server on the DNS port: %v, want errNotOurDNS", err)
	}
}

// TestPatchesApply: each patch to the pinned test peers matches its source
// exactly once, and the build uses the patched copies.
func TestPatchesApply(t *testing.T) {
	dir := t.TempDir()
	modfile, err := patchedModfile(dir)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(modfile)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range patches {
		copyDir := filepath.Join(dir, strings.ReplaceAll(p.module, "/", "_"))
		if !strings.Contains(string(mod), "replace "+p.module+" => "+copyDir) {
			t.Errorf("go.mod does not replace %s by its patched copy", p.module)
		}
		got, err := os.ReadFile(filepath.Join(copyDir, p.file))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(string(got), p.new) != 1 || strings.Contains(string(got), p.old) {
			t.Errorf("patch of %s/%s not applied", p.module, p.file)
		}
	}
}
