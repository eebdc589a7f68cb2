package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"unicode"

	"github.com/acmectl/acmectl/manager"
)

// errInterrupted is the cause of a command's context when SIGINT arrived
// (Ctrl-C, also at a prompt): main prints certbot's "Exiting due to user
// request." and exits 1 (certbot log.post_arg_parse_except_hook).
var errInterrupted error = &manager.CertbotError{Msg: "Exiting due to user request."}

// interruptContext is the command's context: cancelled with errInterrupted
// on SIGINT, and with a plain cancellation on SIGTERM.
func interruptContext(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			if s == os.Interrupt {
				cancel(errInterrupted)
			} else {
				cancel(fmt.Errorf("terminated by %v", s))
			}
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

// interrupted turns the error of a command that Ctrl-C stopped into
// errInterrupted (whatever the command was doing when it arrived).
func interrupted(ctx context.Context, err error) error {
	if err != nil && errors.Is(context.Cause(ctx), errInterrupted) {
		return errInterrupted
	}
	return err
}

// ask prints a question on stderr and reads one line from stdin; Ctrl-C
// while it waits ends it with errInterrupted.
func (e *env) ask(question string) (string, error) {
	fmt.Fprint(e.stderr, question)
	type answer struct {
		line string
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		line, err := e.stdin.ReadString('\n')
		ch <- answer{line, err}
	}()
	ctx := e.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	select {
	case a := <-ch:
		if a.err != nil && a.line == "" {
			return "", fmt.Errorf("read answer: %w", a.err)
		}
		return strings.TrimSpace(a.line), nil
	case <-ctx.Done():
		fmt.Fprintln(e.stderr)
		if errors.Is(context.Cause(ctx), errInterrupted) {
			return "", errInterrupted
		}
		return "", context.Cause(ctx)
	}
}

// confirm asks a yes/no question; non-interactive runs take def.
func (e *env) confirm(question string, def bool) (bool, error) {
	if !e.interactive() {
		return def, nil
	}
	suffix := " (Y)es/(N)o: "
	for range 5 {
		a, err := e.ask(question + suffix)
		if err != nil {
			return false, err
		}
		switch strings.ToLower(a) {
		case "y", "yes":
			return true, nil
		case "n", "no":
			return false, nil
		case "":
			return def, nil
		}
	}
	return def, nil
}

// yesNo asks q as certbot's display does (display/obj.py FileDisplay.yesno):
// the question between two dashed lines, then "(U)pdate certificate/(C)ancel: "
// until an answer starts with the first letter of either label.
func (e *env) yesNo(q manager.YesNo) (bool, error) {
	if !e.interactive() {
		return q.Default, nil
	}
	lines := strings.Split(q.Question, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ") // certbot's wrap_lines
	}
	fmt.Fprintf(e.stderr, "\n%s\n%s\n%s\n", dashes, strings.Join(lines, "\n"), dashes)
	prompt := parensAroundChar(q.Yes) + "/" + parensAroundChar(q.No) + ": "
	for range 20 {
		a, err := e.ask(prompt)
		if err != nil {
			return false, err
		}
		switch {
		case startsWithLetter(a, q.Yes):
			return true, nil
		case startsWithLetter(a, q.No):
			return false, nil
		}
	}
	return q.Default, nil
}

// parensAroundChar is certbot's util.parens_around_char: "(U)pdate certificate".
func parensAroundChar(label string) string {
	if label == "" {
		return label
	}
	return "(" + label[:1] + ")" + label[1:]
}

func startsWithLetter(answer, label string) bool {
	if answer == "" || label == "" {
		return false
	}
	return unicode.ToLower(rune(answer[0])) == unicode.ToLower(rune(label[0]))
}

// prompter is the engine's Prompter over the command's terminal.
type prompter struct{ e *env }

func (p prompter) Interactive() bool                        { return p.e.interactive() }
func (p prompter) Ask(q string) (string, error)             { return p.e.ask(q) }
func (p prompter) Confirm(q string, def bool) (bool, error) { return p.e.confirm(q, def) }
func (p prompter) YesNo(q manager.YesNo) (bool, error)      { return p.e.yesNo(q) }

var _ manager.YesNoPrompter = prompter{}
