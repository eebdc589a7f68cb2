package nginx

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestSelfCheckFollowsNoRedirect (issue 16, must-show 3: a redirect test for
// every HTTP client): the installer's self-check asks the local server for
// the token and follows no redirect — the other host gets nothing, and the
// check fails naming the redirect status.
func TestSelfCheckFollowsNoRedirect(t *testing.T) {
	var otherHits atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHits.Add(1)
		w.Write([]byte("tok.ka"))
	}))
	defer other.Close()
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	defer local.Close()
	addr := strings.TrimPrefix(local.URL, "http://")
	err := selfCheck(t.Context(), addr, "a.example", "tok", "tok.ka", 500*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "302") {
		t.Errorf("selfCheck through a redirect = %v, want a failure naming the 302", err)
	}
	if n := otherHits.Load(); n != 0 {
		t.Errorf("the other host got %d request(s), want none", n)
	}
}
