package dnsplugin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/acmectl/acmectl/internal/embedbin"
)

// Embedded returns a Config.Command for a plugin executable held gzipped in
// this binary (go:embed). The executable is unpacked on first use into an
// anonymous, sealed in-memory file (memfd_create, Linux) that lives as long as
// this process and is executed from there: nothing is written to disk and no
// other process can change it. Where that is refused (a kernel without memfd,
// vm.memfd_noexec=2), it is written to a new private directory under
// $TMPDIR (0700) for each start and removed once the child runs; a $TMPDIR
// mounted noexec then fails with a message that says so.
//
// args are the plugin's arguments; its stderr is this process's.
func Embedded(gz []byte, name string, args ...string) func() (*exec.Cmd, func(), error) {
	var (
		once    sync.Once
		memPath string
		memErr  error
	)
	return func() (*exec.Cmd, func(), error) {
		once.Do(func() { memPath, memErr = embedbin.Memfd(gz, name) })
		if memErr == nil {
			cmd := exec.Command(memPath, args...)
			cmd.Args[0] = name
			cmd.Stderr = os.Stderr
			return cmd, nil, nil
		}
		return tempExecutable(gz, name, args)
	}
}

// tempExecutable writes the plugin to a private temporary directory; the
// returned done removes the directory: it is called once the child has
// started (a running executable may be unlinked) or failed to.
func tempExecutable(gz []byte, name string, args []string) (*exec.Cmd, func(), error) {
	dir, err := os.MkdirTemp("", "acmectl-plugin-")
	if err != nil {
		return nil, nil, fmt.Errorf("unpack the embedded plugin: %w", err)
	}
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o700)
	if err == nil {
		err = embedbin.Unpack(f, gz)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Args[0] = name
	cmd.Stderr = os.Stderr
	return cmd, func() { os.RemoveAll(dir) }, nil
}
