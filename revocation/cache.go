package revocation

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/acmectl/acmectl/internal/specialfile"
)

// The cache file is one JSON object, key → entry. It is a cache: a file
// that cannot be read or parsed is ignored (every answer is asked again),
// and a run that cannot write it (a user without write access to the work
// directory) keeps its answers in memory only.
const maxCacheFile = 64 << 20

func loadCache(path string, now time.Time) map[string]entry {
	m := map[string]entry{}
	if path == "" {
		return m
	}
	f, err := os.Open(path)
	if err != nil {
		return m
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCacheFile))
	if err != nil || json.Unmarshal(b, &m) != nil {
		return map[string]entry{}
	}
	for k, e := range m {
		if now.Unix() >= e.U && now.Unix() >= e.X {
			delete(m, k)
		}
	}
	return m
}

// Save writes the cache file when answers were added (atomically: a temp
// file in the same directory renamed over it), dropping the entries of
// expired certificates. Without CachePath it does nothing.
func (c *Checker) Save() error {
	c.init()
	c.mu.Lock()
	if c.CachePath == "" || !c.dirty {
		c.mu.Unlock()
		return nil
	}
	now := c.now().Unix()
	out := make(map[string]entry, len(c.cache))
	for k, e := range c.cache {
		if now < e.X {
			out[k] = e
		}
	}
	c.dirty = false
	c.mu.Unlock()
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	if err := specialfile.CheckReplaceable(c.CachePath); err != nil {
		return fmt.Errorf("save the revocation cache: %w", err)
	}
	dir := filepath.Dir(c.CachePath)
	tmp, err := os.CreateTemp(dir, ".revocation-*")
	if err != nil {
		return fmt.Errorf("save the revocation cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("save the revocation cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), c.CachePath); err != nil {
		return fmt.Errorf("save the revocation cache: %w", err)
	}
	return nil
}
