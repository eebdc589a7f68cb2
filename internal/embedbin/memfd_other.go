//go:build !linux

package embedbin

import "errors"

// Memfd is Linux only.
func Memfd(gz []byte, name string) (string, error) {
	return "", errors.New("memfd_create is Linux only")
}
