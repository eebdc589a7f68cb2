package installer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Checkpoint directories under the work dir, as certbot names them
// (certbot/_internal/constants.py BACKUP_DIR, IN_PROGRESS_DIR, TEMP_CHECKPOINT_DIR).
const (
	BackupDir         = "backups"
	InProgressDir     = "IN_PROGRESS"
	TempCheckpointDir = "temp_checkpoint"
)

// Reverter keeps certbot's checkpoint layout (certbot/reverter.py) so that
// `certbot rollback` undoes what acmectl changed and the other way round:
//
//	<work>/backups/<unix time>/FILEPATHS      one changed file a line
//	<work>/backups/<unix time>/<base>_<i>     the file as it was before (i = its line)
//	<work>/backups/<unix time>/NEW_FILES      files created, removed on rollback
//	<work>/backups/<unix time>/COMMANDS       undo commands (CSV), run on rollback
//	<work>/backups/<unix time>/CHANGES_SINCE  "-- title --" and notes
//	<work>/IN_PROGRESS/                       the same, not yet finalized
//	<work>/temp_checkpoint/                   the same, for challenges
//
// Beyond certbot, a finalized checkpoint also keeps each file as it was after
// the change (<base>_<i>.after, ignored by certbot), so rollback can say which
// files were edited by hand since. Restores copy the saved bytes back with their
// mode and times, through a temporary file renamed over the target.
//
// A Reverter is not safe for concurrent use.
type Reverter struct {
	WorkDir string
	Logger  *slog.Logger
	now     func() time.Time
}

func (r *Reverter) log() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

func (r *Reverter) dir(temp bool) string {
	if temp {
		return filepath.Join(r.WorkDir, TempCheckpointDir)
	}
	return filepath.Join(r.WorkDir, InProgressDir)
}

func (r *Reverter) backups() string { return filepath.Join(r.WorkDir, BackupDir) }

// AddFiles saves the current content of files (those that exist) into the
// temporary or in-progress checkpoint before they are changed. A file already in
// the checkpoint keeps its oldest copy. A file that is part of the temporary
// checkpoint may not go into the in-progress one (certbot's
// _check_tempfile_saves).
func (r *Reverter) AddFiles(temp bool, notes string, files ...string) error {
	cp := r.dir(temp)
	if !temp {
		protected, err := r.tempFiles()
		if err != nil {
			return err
		}
		for _, f := range files {
			if slices.Contains(protected, RealPath(f)) {
				return fmt.Errorf("checkpoint: attempting to overwrite challenge file %s", f)
			}
		}
	}
	if err := os.MkdirAll(cp, 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	existing, err := readLines(filepath.Join(cp, "FILEPATHS"))
	if err != nil {
		return err
	}
	var added []string
	for _, f := range files {
		f = RealPath(f)
		if slices.Contains(existing, f) || slices.Contains(added, f) {
			continue
		}
		if _, err := os.Lstat(f); errors.Is(err, fs.ErrNotExist) {
			continue // a new file: the caller registers it with AddNewFiles
		}
		idx := len(existing) + len(added)
		if err := copyFile(f, filepath.Join(cp, filepath.Base(f)+"_"+strconv.Itoa(idx))); err != nil {
			return fmt.Errorf("checkpoint: unable to add file %s to checkpoint %s: %w", f, cp, err)
		}
		added = append(added, f)
	}
	if err := appendLines(filepath.Join(cp, "FILEPATHS"), added); err != nil {
		return err
	}
	if notes != "" {
		if err := appendText(filepath.Join(cp, "CHANGES_SINCE"), notes); err != nil {
			return err
		}
	}
	return nil
}

// AddNewFiles registers files about to be created; reverting the checkpoint
// removes them. Register before writing (certbot's register_file_creation).
func (r *Reverter) AddNewFiles(temp bool, files ...string) error {
	cp := r.dir(temp)
	if err := os.MkdirAll(cp, 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	existing, err := readLines(filepath.Join(cp, "NEW_FILES"))
	if err != nil {
		return err
	}
	var add []string
	for _, f := range files {
		if !slices.Contains(existing, f) && !slices.Contains(add, f) {
			add = append(add, f)
		}
	}
	return appendLines(filepath.Join(cp, "NEW_FILES"), add)
}

// AddUndoCommand registers a command (argv) run when the checkpoint is reverted,
// before the files are restored (certbot's register_undo_command).
func (r *Reverter) AddUndoCommand(temp bool, argv ...string) error {
	cp := r.dir(temp)
	if err := os.MkdirAll(cp, 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(argv)
	w.Flush()
	return appendText(filepath.Join(cp, "COMMANDS"), b.String())
}

// Pending reports whether the in-progress checkpoint exists.
func (r *Reverter) Pending() bool {
	_, err := os.Stat(r.dir(false))
	return err == nil
}

// Finalize turns the in-progress checkpoint into backups/<timestamp> with title
// (certbot's finalize_checkpoint). Without one it does nothing.
func (r *Reverter) Finalize(title string) error {
	cp := r.dir(false)
	if _, err := os.Stat(cp); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return r.finalize(cp, title)
}

func (r *Reverter) finalize(cp, title string) error {
	changes := filepath.Join(cp, "CHANGES_SINCE")
	old, err := os.ReadFile(changes)
	if errors.Is(err, fs.ErrNotExist) {
		old, err = []byte("No changes\n"), nil
	}
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := writeFileAtomic(changes, append([]byte("-- "+title+" --\n"), old...), 0o644); err != nil {
		return fmt.Errorf("checkpoint: unable to add title: %w", err)
	}
	// Our addition: the files as they are now, to detect later hand edits.
	paths, err := readLines(filepath.Join(cp, "FILEPATHS"))
	if err != nil {
		return err
	}
	for i, p := range paths {
		if err := copyFile(p, filepath.Join(cp, filepath.Base(p)+"_"+strconv.Itoa(i)+".after")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("checkpoint: %w", err)
		}
	}
	if err := os.MkdirAll(r.backups(), 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	for range 3 {
		final := filepath.Join(r.backups(), r.timestamp())
		if err := os.Rename(cp, final); err == nil {
			return nil
		} else if !errors.Is(err, fs.ErrExist) && !strings.Contains(err.Error(), "directory not empty") {
			return fmt.Errorf("checkpoint: unable to finalize %s: %w", cp, err)
		}
	}
	return fmt.Errorf("checkpoint: unable to finalize %s: timestamp in use", cp)
}

// timestamp follows certbot's _checkpoint_timestamp: str(time.time()), kept
// after the newest existing checkpoint.
func (r *Reverter) timestamp() string {
	now := time.Now
	if r.now != nil {
		now = r.now
	}
	t := float64(now().UnixNano()) / 1e9
	names := r.list()
	if len(names) > 0 {
		newest, _ := strconv.ParseFloat(names[len(names)-1], 64)
		if newest >= t {
			t = newest + 0.01
		}
	}
	return strconv.FormatFloat(t, 'f', -1, 64)
}

// list returns the finalized checkpoints oldest first. certbot sorts the names
// as strings; they are Unix times of equal length for centuries, so string and
// numeric order agree — we sort numerically.
func (r *Reverter) list() []string {
	ents, _ := os.ReadDir(r.backups())
	var names []string
	for _, e := range ents {
		if _, err := strconv.ParseFloat(e.Name(), 64); err == nil && e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Slice(names, func(i, j int) bool {
		a, _ := strconv.ParseFloat(names[i], 64)
		b, _ := strconv.ParseFloat(names[j], 64)
		return a < b
	})
	return names
}

// Checkpoint describes one finalized checkpoint.
type Checkpoint struct {
	Dir   string
	Title string   // the first "-- title --" line of CHANGES_SINCE
	Files []string // FILEPATHS
	New   []string // NEW_FILES
}

// Checkpoints lists the finalized checkpoints, newest first.
func (r *Reverter) Checkpoints() ([]Checkpoint, error) {
	names := r.list()
	var out []Checkpoint
	for i := len(names) - 1; i >= 0; i-- {
		d := filepath.Join(r.backups(), names[i])
		c := Checkpoint{Dir: d}
		b, _ := os.ReadFile(filepath.Join(d, "CHANGES_SINCE"))
		if first, _, _ := strings.Cut(string(b), "\n"); strings.HasPrefix(first, "-- ") {
			c.Title = strings.TrimSuffix(strings.TrimPrefix(first, "-- "), " --")
		}
		var err error
		if c.Files, err = readLines(filepath.Join(d, "FILEPATHS")); err != nil {
			return nil, err
		}
		if c.New, err = readLines(filepath.Join(d, "NEW_FILES")); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// RevertTemporary restores the temporary checkpoint (challenge changes).
func (r *Reverter) RevertTemporary() error {
	if _, err := os.Stat(r.dir(true)); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return r.recover(r.dir(true))
}

// Recover reverts the temporary and then the in-progress checkpoint, in
// certbot's order (recovery_routine).
func (r *Reverter) Recover() error {
	if err := r.RevertTemporary(); err != nil {
		return err
	}
	if _, err := os.Stat(r.dir(false)); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return r.recover(r.dir(false))
}

// Rollback reverts the n newest finalized checkpoints and returns the files that
// had been changed by someone else since their checkpoint was made (their edits
// are undone too, as certbot does; the caller may warn). Fewer than n existing
// is not an error (certbot warns).
func (r *Reverter) Rollback(n int) (handEdited []string, err error) {
	if n < 0 {
		return nil, errors.New("rollback: the number of checkpoints must be a positive integer")
	}
	names := r.list()
	if len(names) < n {
		r.log().Warn("fewer checkpoints than asked to roll back", slog.Int("asked", n), slog.Int("exist", len(names)))
	}
	for ; n > 0 && len(names) > 0; n-- {
		d := filepath.Join(r.backups(), names[len(names)-1])
		names = names[:len(names)-1]
		handEdited = append(handEdited, editedSince(d)...)
		if err := r.recover(d); err != nil {
			return handEdited, fmt.Errorf("rollback: unable to load checkpoint %s: %w", d, err)
		}
	}
	return handEdited, nil
}

func editedSince(cp string) []string {
	paths, _ := readLines(filepath.Join(cp, "FILEPATHS"))
	var out []string
	for i, p := range paths {
		after, err := os.ReadFile(filepath.Join(cp, filepath.Base(p)+"_"+strconv.Itoa(i)+".after"))
		if err != nil {
			continue
		}
		now, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(now, after) {
			out = append(out, p)
		}
	}
	return out
}

// recover restores one checkpoint directory and removes it (certbot's
// _recover_checkpoint): undo commands (newest first), changed files, new files.
func (r *Reverter) recover(cp string) error {
	if b, err := os.ReadFile(filepath.Join(cp, "COMMANDS")); err == nil {
		rows, _ := csv.NewReader(bytes.NewReader(b)).ReadAll()
		for i := len(rows) - 1; i >= 0; i-- {
			if len(rows[i]) == 0 {
				continue
			}
			if out, err := exec.Command(rows[i][0], rows[i][1:]...).CombinedOutput(); err != nil { //nolint:noctx // short local admin command
				r.log().Error("unable to run undo command", slog.String("command", strings.Join(rows[i], " ")), slog.String("output", string(out)))
			}
		}
	}
	paths, err := readLines(filepath.Join(cp, "FILEPATHS"))
	if err != nil {
		return err
	}
	for i, p := range paths {
		if err := copyFile(filepath.Join(cp, filepath.Base(p)+"_"+strconv.Itoa(i)), p); err != nil {
			return fmt.Errorf("unable to recover %s from %s: %w", p, cp, err)
		}
	}
	news, err := readLines(filepath.Join(cp, "NEW_FILES"))
	if err != nil {
		return err
	}
	for _, p := range news {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("unable to remove %s: %w", p, err)
		}
	}
	if err := os.RemoveAll(cp); err != nil {
		return fmt.Errorf("unable to remove directory %s: %w", cp, err)
	}
	return nil
}

func (r *Reverter) tempFiles() ([]string, error) {
	a, err := readLines(filepath.Join(r.dir(true), "FILEPATHS"))
	if err != nil {
		return nil, err
	}
	b, err := readLines(filepath.Join(r.dir(true), "NEW_FILES"))
	return append(a, b...), err
}

func readLines(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSuffix(l, "\r"); l != "" {
			out = append(out, l)
		}
	}
	return out, nil
}

func appendLines(path string, lines []string) error {
	if len(lines) == 0 {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		return appendText(path, "")
	}
	return appendText(path, strings.Join(lines, "\n")+"\n")
}

func appendText(path, s string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("checkpoint: %w", err)
	}
	return f.Close()
}
