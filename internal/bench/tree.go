package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

// copyDir copies a small directory tree (accounts) from src to dst.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		t := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(t, info.Mode().Perm()|0o700)
		case d.Type()&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, t)
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(t, data, info.Mode().Perm())
		}
	})
}

// copyAccounts gives dst the accounts of src (certbot/acmectl config dir and
// lego path), so that dst starts with an existing account.
func copyAccounts(src, dst home) error {
	for _, d := range []string{filepath.Join("config", "accounts"), filepath.Join("lego", "accounts")} {
		if _, err := os.Stat(filepath.Join(src.dir, d)); err != nil {
			continue
		}
		if err := copyDir(filepath.Join(src.dir, d), filepath.Join(dst.dir, d)); err != nil {
			return fmt.Errorf("copy accounts: %w", err)
		}
	}
	return nil
}

// cloneCertbot writes n lineages l00000.example… into dst's config dir, each
// a copy of src's base.example lineage in certbot's layout: archive/<name>/
// {cert,chain,fullchain,privkey}1.pem, live/<name>/*.pem relative symlinks to
// them and renewal/<name>.conf with the paths rewritten. Every clone holds the
// same (real, valid) certificate and key; both certbot and acmectl read such a
// tree as n lineages. extraConf is appended to each conf. Files are written
// without fsync: this is a fixture.
func cloneCertbot(ctx context.Context, src, dst home, n int, extraConf string) error {
	srcCfg, dstCfg := src.config(), dst.config()
	if err := copyDir(filepath.Join(srcCfg, "accounts"), filepath.Join(dstCfg, "accounts")); err != nil {
		return err
	}
	conf, err := os.ReadFile(filepath.Join(srcCfg, "renewal", baseName+".conf"))
	if err != nil {
		return err
	}
	kinds := []string{"cert", "chain", "fullchain", "privkey"}
	files := map[string][]byte{}
	for _, k := range kinds {
		// the live link names the current version
		if files[k], err = os.ReadFile(filepath.Join(srcCfg, "live", baseName, k+".pem")); err != nil {
			return err
		}
	}
	for _, d := range []string{"archive", "live", "renewal"} {
		if err := os.MkdirAll(filepath.Join(dstCfg, d), 0o755); err != nil {
			return err
		}
	}
	return parallel(ctx, n, func(i int) error {
		name := fmt.Sprintf("l%05d.example", i)
		ad, ld := filepath.Join(dstCfg, "archive", name), filepath.Join(dstCfg, "live", name)
		if err := os.Mkdir(ad, 0o700); err != nil {
			return err
		}
		if err := os.Mkdir(ld, 0o755); err != nil {
			return err
		}
		for _, k := range kinds {
			mode := os.FileMode(0o644)
			if k == "privkey" {
				mode = 0o600
			}
			if err := os.WriteFile(filepath.Join(ad, k+"1.pem"), files[k], mode); err != nil {
				return err
			}
			if err := os.Symlink(filepath.Join("..", "..", "archive", name, k+"1.pem"), filepath.Join(ld, k+".pem")); err != nil {
				return err
			}
		}
		c := strings.ReplaceAll(string(conf), srcCfg, dstCfg)
		c = strings.ReplaceAll(c, "/archive/"+baseName, "/archive/"+name)
		c = strings.ReplaceAll(c, "/live/"+baseName+"/", "/live/"+name+"/") + extraConf
		return os.WriteFile(filepath.Join(dstCfg, "renewal", name+".conf"), []byte(c), 0o644)
	})
}

// parallel runs f(0..n-1) on a few goroutines (file creation is latency
// bound) and returns the first error; it stops early when ctx ends.
func parallel(ctx context.Context, n int, f func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  atomic.Int64
	)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// cloneLego writes n copies of src's base.example into dst's lego path
// (certificates/<name>.{crt,issuer.crt,key,json}).
func cloneLego(ctx context.Context, src, dst home, n int) error {
	if err := copyDir(filepath.Join(src.lego(), "accounts"), filepath.Join(dst.lego(), "accounts")); err != nil {
		return err
	}
	sd, dd := filepath.Join(src.lego(), "certificates"), filepath.Join(dst.lego(), "certificates")
	if err := os.MkdirAll(dd, 0o700); err != nil {
		return err
	}
	exts := []string{".crt", ".issuer.crt", ".key", ".json"}
	files := map[string][]byte{}
	for _, e := range exts {
		b, err := os.ReadFile(filepath.Join(sd, baseName+e))
		if err != nil {
			return err
		}
		files[e] = b
	}
	return parallel(ctx, n, func(i int) error {
		name := fmt.Sprintf("l%05d.example", i)
		if n == 1 {
			name = baseName // lego renew -d base.example must find it
		}
		for _, e := range exts {
			mode := os.FileMode(0o644)
			if e == ".key" {
				mode = 0o600
			}
			if err := os.WriteFile(filepath.Join(dd, name+e), files[e], mode); err != nil {
				return err
			}
		}
		return nil
	})
}
