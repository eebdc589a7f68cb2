package storage

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// haveSyncFS: syncFS works here.
const haveSyncFS = true

// syncFS flushes the file system dir is on: syncfs(2). It reports
// writeback errors since Linux 5.8.
func syncFS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
