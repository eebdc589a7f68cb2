package pebbletest

import (
	"encoding/json"
	"errors"
	"io"
	"net"
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
