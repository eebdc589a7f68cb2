//go:build !linux

package storage

import "errors"

func renameExchange(a, b string) error { return errors.ErrUnsupported }
