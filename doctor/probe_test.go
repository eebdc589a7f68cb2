package doctor

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/acmectl/acmectl/manager"
)

// TestProbeCARedirectCarriesNothing (issue 16, must-show 3: a redirect test
// for every HTTP client): doctor's probe of a CA directory, through the
// client `acmectl doctor` builds (manager.NewHTTPClient), is a bodiless GET
// with a User-Agent. Redirected to another host, it follows (the answer only
// says whether the CA answers) and that host gets nothing else: no body, no
// credential or account header.
func TestProbeCARedirectCarriesNothing(t *testing.T) {
	var mu sync.Mutex
	type seen struct {
		method  string
		body    int
		headers []string
	}
	var got []seen
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var hs []string
		for k := range r.Header {
			hs = append(hs, k)
		}
		mu.Lock()
		got = append(got, seen{r.Method, len(b), hs})
		mu.Unlock()
		w.Write([]byte(`{"newNonce":"x","newOrder":"y"}`))
	}))
	defer other.Close()
	front := httptest.NewServer(http.RedirectHandler(other.URL+"/dir", http.StatusFound))
	defer front.Close()

	hc, err := manager.NewHTTPClient("")
	if err != nil {
		t.Fatal(err)
	}
	hc.Timeout = CATimeout
	d := &Doctor{client: hc, UserAgent: "acmectl-test", caSeen: map[string]caInfo{}}
	if f := d.probeCA(t.Context(), front.URL+"/dir").finding; f.Level != OK {
		t.Errorf("probe through a redirect: %+v", f)
	}
	if len(got) != 1 {
		t.Fatalf("the other host got %d requests, want the one GET", len(got))
	}
	allowed := []string{"Accept-Encoding", "Referer", "User-Agent"}
	if got[0].method != http.MethodGet || got[0].body != 0 {
		t.Errorf("the other host got %s with a %d-byte body, want a bodiless GET", got[0].method, got[0].body)
	}
	for _, h := range got[0].headers {
		if !slices.Contains(allowed, h) {
			t.Errorf("the probe carried the header %s to another host; want only %v", h, allowed)
		}
	}
}
