//go:build !linux

package storage

import "errors"

// haveSyncFS: syncFS works here (syncfs(2) is Linux's).
const haveSyncFS = false

func syncFS(string) error { return errors.ErrUnsupported }
