package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// UpdateSymlinks is certbot's update_symlinks for every lineage
// (cert_manager.update_live_symlinks, storage.RenewableCert
// _update_symlinks): each live link is pointed, by a relative path, at the
// file of the same name in the archive directory the renewal conf names
// (archive_dir, else archive/<name>) — for an operator who moved the
// archive and edited the conf. The four links change at one instant where
// the live directory allows it (swapLiveDir), else one by one. A lineage
// whose links cannot be read, or whose new targets do not exist, is left as
// it was and reported (certbot's CertStorageError "target ... does not
// exist"); the others are still updated. It returns the names updated.
func (t *Tree) UpdateSymlinks(ctx context.Context) ([]string, error) {
	names, err := t.lineageNames(nil)
	if err != nil {
		return nil, err
	}
	var done []string
	var errs []error
	for _, name := range names {
		if err := t.updateSymlinks(ctx, name); err != nil {
			errs = append(errs, fmt.Errorf("lineage %s: %w", name, err))
			continue
		}
		done = append(done, name)
	}
	return done, errors.Join(errs...)
}

func (t *Tree) updateSymlinks(ctx context.Context, name string) error {
	unlock, err := t.lockWrite(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	conf, err := t.readConf(name)
	if err != nil {
		return err
	}
	archive := t.ArchiveDir(name)
	if conf.ArchiveDir != "" {
		archive = conf.ArchiveDir
	}
	live := t.LiveDir(name)
	rel, err := filepath.Rel(live, archive)
	if err != nil {
		return err
	}
	files := map[string]string{}
	for _, k := range kinds {
		link := filepath.Join(live, k+".pem")
		old, err := os.Readlink(link)
		if err != nil {
			return fmt.Errorf("expected %s to be a symlink: %w", link, ErrBroken)
		}
		if _, err := os.Stat(filepath.Join(archive, filepath.Base(old))); err != nil {
			return fmt.Errorf("target %s of symlink %s does not exist: %w", filepath.Join(archive, filepath.Base(old)), link, ErrBroken)
		}
		files[k] = filepath.Join(rel, filepath.Base(old))
	}
	target := func(k string) string { return files[k] }
	if err := t.swapLiveDir(name, target); err == nil {
		return nil
	} else if !errors.Is(err, errNoExchange) {
		return err
	}
	for _, k := range kinds {
		if err := symlinkAtomic(target(k), filepath.Join(live, k+".pem")); err != nil {
			return err
		}
	}
	return syncDir(live)
}
