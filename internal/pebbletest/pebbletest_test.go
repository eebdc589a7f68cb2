package pebbletest

import (
	"encoding/json"
	"io"
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
