package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/acmectl/acmectl/manager"
	"github.com/acmectl/acmectl/storage"
)

// runDelete removes lineages (--cert-name, repeatable as a comma list). It
// asks on a terminal unless -n; without --cert-name it offers a choice on a
// terminal and fails naming the flag otherwise.
func runDelete(ctx context.Context, e *env) error {
	st, err := openStore(e)
	if err != nil {
		return err
	}
	var names []string
	for _, n := range strings.Split(e.o.CertName, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		if !e.interactive() {
			return manager.NeedFlag("no certificate chosen", "--cert-name NAME")
		}
		infos, err := st.ListLineages(ctx)
		if err != nil {
			return err
		}
		if len(infos) == 0 {
			e.printf("No certificate found to delete.\n")
			return nil
		}
		fmt.Fprintln(e.stderr, "Which certificate(s) would you like to delete?")
		for i, li := range infos {
			fmt.Fprintf(e.stderr, "%d: %s\n", i+1, li.Name)
		}
		ans, err := e.ask("Select the appropriate numbers separated by commas and/or spaces: ")
		if err != nil {
			return err
		}
		for _, f := range strings.FieldsFunc(ans, func(r rune) bool { return r == ',' || r == ' ' }) {
			for i, li := range infos {
				if f == fmt.Sprint(i+1) {
					names = append(names, li.Name)
				}
			}
		}
		if len(names) == 0 {
			return errors.New("no certificate chosen")
		}
	}
	for _, n := range names {
		if _, err := st.LoadLineage(ctx, n); err != nil && errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("no certificate found with name %s (see 'acmectl certificates')", n)
		}
	}
	ok, err := e.confirm(fmt.Sprintf("Are you sure you want to delete the above certificate(s) (%s)?", strings.Join(names, ", ")), true)
	if err != nil {
		return err
	}
	if !ok {
		e.printf("Deletion of certificate(s) canceled.\n")
		return nil
	}
	m := e.engine(st)
	for _, n := range names {
		if err := m.DeleteLineage(ctx, n); err != nil {
			return err
		}
		e.printf("Deleted all files relating to certificate %s.\n", n)
	}
	return nil
}
