package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ariLineages creates n lineages (a00.example …) in tr and returns their
// names and the serials of their certificates.
func ariLineages(t *testing.T, tr *Tree, n int) (names []string, serials map[string]string) {
	t.Helper()
	ca := newCA(t)
	serials = map[string]string{}
	for i := range n {
		name := fmt.Sprintf("a%02d.example", i)
		conf := &RenewalConf{Params: RenewalParams{Server: "https://ca.example/dir", Authenticator: "standalone"}}
		l, err := tr.CreateLineage(t.Context(), name, ca.version(t, name), conf)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
		serials[name] = l.Cert.SerialNumber.Text(16)
	}
	return names, serials
}

// listedARI is each lineage's ARIRetryAfter as a listing gives it.
func listedARI(t *testing.T, tr *Tree) map[string]time.Time {
	t.Helper()
	got := map[string]time.Time{}
	err := tr.WalkLineages(t.Context(), nil, func(li *LineageInfo) error {
		if li.Conf == nil {
			return fmt.Errorf("%s: no conf summary: %v", li.Name, li.Err)
		}
		got[li.Name] = li.Conf.ARIRetryAfter
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// loadedARI is the lineage's ARIRetryAfter as LoadLineage gives it.
func loadedARI(t *testing.T, tr *Tree, name string) time.Time {
	t.Helper()
	l, err := tr.LoadLineage(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return l.ARIRetryAfter
}

func noTemps(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			t.Errorf("temporary file left in %s: %s", dir, e.Name())
		}
	}
}

func inodes(t *testing.T, tr *Tree, names []string) map[string]uint64 {
	t.Helper()
	m := map[string]uint64{}
	for _, name := range names {
		fi, err := os.Stat(tr.RenewalConfPath(name))
		if err != nil {
			t.Fatal(err)
		}
		m[name] = fi.Sys().(*syscall.Stat_t).Ino
	}
	return m
}

// TestSetARIRetryAfters: a batch writes one file and no conf; listings
// and LoadLineage give each saved time (to the second) as the conf's
// ARIRetryAfter, fresh Trees too; a lineage with a bad name or no serial is
// named in the error and the others are saved; an entry for another serial
// (the lineage was renewed since) is ignored; where the conf says a later
// time, the conf's holds; a later batch keeps the other lineages' entries
// and drops those whose time has passed.
func TestSetARIRetryAfters(t *testing.T) {
	ctx := t.Context()
	tr := openTree(t)
	names, serials := ariLineages(t, tr, 5)
	confs := map[string][]byte{}
	for _, name := range names {
		confs[name], _ = os.ReadFile(tr.RenewalConfPath(name))
	}
	before := inodes(t, tr, names)
	at := time.Now().Add(6*time.Hour + 500*time.Millisecond)
	want := time.Unix(at.Unix(), 0).UTC()
	times := map[string]ARIRetry{"../bad": {At: at, Serial: "1"}, "noserial.example": {At: at}}
	for _, name := range names[:4] {
		times[name] = ARIRetry{At: at, Serial: serials[name]}
	}
	times[names[3]] = ARIRetry{At: at, Serial: serials[names[3]] + "0"} // not the current certificate
	err := tr.SetARIRetryAfters(ctx, times)
	if err == nil || !strings.Contains(err.Error(), "../bad") || !strings.Contains(err.Error(), "noserial.example") {
		t.Errorf("SetARIRetryAfters with a bad name and a missing serial: %v, want both named", err)
	}
	for name, ino := range inodes(t, tr, names) {
		after, _ := os.ReadFile(tr.RenewalConfPath(name))
		if ino != before[name] || string(after) != string(confs[name]) {
			t.Errorf("%s: conf rewritten by SetARIRetryAfters", name)
		}
	}
	noTemps(t, filepath.Join(tr.Dir, ".acmectl"))
	fresh := func() *Tree {
		o, err := Open(tr.Dir, &Options{LockTimeout: 30 * time.Second, Hostname: "test.host"})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	for _, view := range []*Tree{tr, fresh()} {
		got := listedARI(t, view)
		for i, name := range names {
			w := want
			if i >= 3 {
				w = time.Time{} // another serial; not saved
			}
			if !got[name].Equal(w) {
				t.Errorf("listing: %s: ARIRetryAfter %v, want %v", name, got[name], w)
			}
			if l := loadedARI(t, view, name); !l.Equal(w) {
				t.Errorf("LoadLineage: %s: ARIRetryAfter %v, want %v", name, l, w)
			}
		}
	}
	// the conf's later time holds (SetARIRetryAfter writes the conf)
	later := want.Add(time.Hour)
	if err := tr.SetARIRetryAfter(ctx, names[0], later); err != nil {
		t.Fatal(err)
	}
	if got := listedARI(t, tr)[names[0]]; !got.Equal(later) {
		t.Errorf("listing: %s: %v, want the conf's later %v", names[0], got, later)
	}
	if got := loadedARI(t, tr, names[0]); !got.Equal(later) {
		t.Errorf("LoadLineage: %s: %v, want the conf's later %v", names[0], got, later)
	}
	// a later batch: an entry whose time passed is dropped, the others kept
	if err := tr.SetARIRetryAfters(ctx, map[string]ARIRetry{names[1]: {At: time.Now().Add(-time.Minute), Serial: serials[names[1]]}}); err != nil {
		t.Fatal(err)
	}
	if err := tr.SetARIRetryAfters(ctx, map[string]ARIRetry{names[4]: {At: at, Serial: serials[names[4]]}}); err != nil {
		t.Fatal(err)
	}
	got := listedARI(t, tr)
	for name, w := range map[string]time.Time{names[1]: {}, names[2]: want, names[4]: want} {
		if !got[name].Equal(w) {
			t.Errorf("after two more batches: %s: %v, want %v", name, got[name], w)
		}
	}
	b, _ := os.ReadFile(tr.ariFilePath())
	if strings.Contains(string(b), names[1]+"\t") {
		t.Errorf("entry whose time passed kept:\n%s", b)
	}
	if m := mode(t, tr.ariFilePath()); m != 0o600 {
		t.Errorf("ari-retry mode %o, want 0600", m)
	}
}

// TestARIRetryRenewed: once a lineage has a new certificate, its saved time
// (for the old one) no longer holds.
func TestARIRetryRenewed(t *testing.T) {
	ctx := t.Context()
	tr := openTree(t)
	ca := newCA(t)
	if _, err := tr.CreateLineage(ctx, "r.example", ca.version(t, "r.example"), &RenewalConf{}); err != nil {
		t.Fatal(err)
	}
	l, err := tr.LoadLineage(ctx, "r.example")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(time.Hour)
	if err := tr.SetARIRetryAfters(ctx, map[string]ARIRetry{"r.example": {At: at, Serial: l.Cert.SerialNumber.Text(16)}}); err != nil {
		t.Fatal(err)
	}
	if got := listedARI(t, tr)["r.example"]; got.IsZero() {
		t.Fatal("saved time not listed")
	}
	if _, err := tr.SaveVersion(ctx, "r.example", ca.version(t, "r.example"), nil); err != nil {
		t.Fatal(err)
	}
	if got := listedARI(t, tr)["r.example"]; !got.IsZero() {
		t.Errorf("listing after renewal: %v, want none (the time was for the old certificate)", got)
	}
	if got := loadedARI(t, tr, "r.example"); !got.IsZero() {
		t.Errorf("LoadLineage after renewal: %v, want none", got)
	}
}

// TestARIFileDamaged: a file cut short or with a bad line gives the entries
// before the damage; one without the header gives none; a listing never
// fails over it and the next batch replaces it.
func TestARIFileDamaged(t *testing.T) {
	ctx := t.Context()
	tr := openTree(t)
	names, serials := ariLineages(t, tr, 3)
	at := time.Now().Add(time.Hour).Unix()
	line := func(name string) string { return fmt.Sprintf("%s\t%s\t%d\n", name, serials[name], at) }
	for _, c := range []struct {
		name, content string
		kept          int // how many of names have a time
	}{
		{"cut short", ariFileMagic + line(names[0]) + strings.TrimSuffix(line(names[1]), "\n"), 1},
		{"bad line", ariFileMagic + line(names[0]) + "garbage\n" + line(names[1]), 1},
		{"bad time", ariFileMagic + line(names[0]) + names[1] + "\tab\tsoon\n", 1},
		{"no header", line(names[0]) + line(names[1]), 0},
		{"whole", ariFileMagic + line(names[0]) + line(names[1]) + line(names[2]), 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(tr.ariFilePath(), []byte(c.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got := listedARI(t, tr)
			for i, name := range names {
				if has := !got[name].IsZero(); has != (i < c.kept) {
					t.Errorf("%s: time %v, want one: %v", name, got[name], i < c.kept)
				}
			}
		})
	}
	os.WriteFile(tr.ariFilePath(), []byte("\x00\x01junk"), 0o600)
	if err := tr.SetARIRetryAfters(ctx, map[string]ARIRetry{names[2]: {At: time.Unix(at, 0), Serial: serials[names[2]]}}); err != nil {
		t.Fatal(err)
	}
	if got := listedARI(t, tr)[names[2]]; got.Unix() != at {
		t.Errorf("after a batch over a damaged file: %v, want %v", got, time.Unix(at, 0))
	}
}

// TestSetARIRetryAftersWriteFault: a write that fails (a full disk) leaves
// the file as it was, says why, and leaves no temporary file.
func TestSetARIRetryAftersWriteFault(t *testing.T) {
	ctx := t.Context()
	tr := openTree(t)
	names, serials := ariLineages(t, tr, 2)
	at := time.Now().Add(time.Hour)
	if err := tr.SetARIRetryAfters(ctx, map[string]ARIRetry{names[0]: {At: at, Serial: serials[names[0]]}}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(tr.ariFilePath())
	testWriteFault = func(string) error { return syscall.ENOSPC }
	t.Cleanup(func() { testWriteFault = nil })
	err := tr.SetARIRetryAfters(ctx, map[string]ARIRetry{names[1]: {At: at, Serial: serials[names[1]]}})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("SetARIRetryAfters with a full disk: %v, want ENOSPC", err)
	}
	if after, _ := os.ReadFile(tr.ariFilePath()); string(after) != string(before) {
		t.Errorf("file changed by a failed write:\n%s\nwas:\n%s", after, before)
	}
	noTemps(t, filepath.Join(tr.Dir, ".acmectl"))
}

// TestSetARIRetryAftersConcurrent: two Trees on one directory (as two
// renew processes: the tree lock excludes them from each other) save the
// retry times of interleaved lineages at once, round after round; no
// lineage loses the time its last batch saved.
func TestSetARIRetryAftersConcurrent(t *testing.T) {
	ctx := t.Context()
	tr := openTree(t)
	names, serials := ariLineages(t, tr, 8)
	open := func() *Tree {
		o, err := Open(tr.Dir, &Options{LockTimeout: 30 * time.Second, Hostname: "test.host"})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	const rounds = 20
	base := time.Now().Add(time.Hour).Truncate(time.Second)
	errs := make(chan error, 2*rounds)
	var wg sync.WaitGroup
	for k, tk := range []*Tree{open(), open()} {
		wg.Go(func() {
			for r := range rounds {
				times := map[string]ARIRetry{}
				for i := k; i < len(names); i += 2 {
					times[names[i]] = ARIRetry{At: base.Add(time.Duration(r*len(names)+i) * time.Second), Serial: serials[names[i]]}
				}
				errs <- tk.SetARIRetryAfters(ctx, times)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	got := listedARI(t, open())
	for i, name := range names {
		want := base.Add(time.Duration((rounds-1)*len(names)+i) * time.Second)
		if !got[name].Equal(want) {
			t.Errorf("%s: ARIRetryAfter %v, want %v (its last batch's)", name, got[name], want)
		}
	}
	noTemps(t, filepath.Join(tr.Dir, ".acmectl"))
}
