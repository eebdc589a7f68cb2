package embedbin

import (
	"errors"
	"fmt"
	"syscall"
)

// Exec replaces this process with the embedded executable (argv and env as
// given): from the cache directory when one can be written and executed
// from, else from a memfd. It returns only on failure.
func (b *Binary) Exec(argv, env []string) error {
	var cacheErr error
	if dir, err := CacheDir(); err != nil {
		cacheErr = err
	} else if path, err := b.Cached(dir); err != nil {
		cacheErr = err
	} else {
		cacheErr = syscall.Exec(path, argv, env) // returns only on failure (a noexec mount: EACCES)
	}
	path, err := Memfd(b.Gz, b.Name)
	if err != nil {
		return fmt.Errorf("run the embedded %s: %w", b.Name, errors.Join(cacheErr, err))
	}
	err = syscall.Exec(path, argv, env)
	return fmt.Errorf("run the embedded %s: %w", b.Name, errors.Join(cacheErr, err))
}
