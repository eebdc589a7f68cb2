//go:build !linux

package dnsplugin

import "errors"

func memfdExecutable(gz []byte, name string) (string, error) {
	return "", errors.New("memfd_create is Linux only")
}
