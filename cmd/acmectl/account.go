package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

func runRegister(ctx context.Context, e *env) error {
	st, unlock, err := openLockedStore(ctx, e)
	if err != nil {
		return err
	}
	defer unlock()
	a, err := e.engine(st).Register(ctx)
	if err != nil {
		return err
	}
	e.printf("Account registered: %s\nAccount ID: %s\n", a.URL, a.ID)
	return nil
}

func runUpdateAccount(ctx context.Context, e *env) error {
	st, unlock, err := openLockedStore(ctx, e)
	if err != nil {
		return err
	}
	defer unlock()
	up, err := e.engine(st).UpdateAccount(ctx)
	if up != nil && up.RolledOver {
		for _, w := range up.Warnings {
			e.errorf("warning: %v\n", w)
		}
		e.printf("The account key was rolled over. Account ID: %s (was %s)\n", up.NewID, up.OldID)
	}
	if err != nil {
		return err
	}
	if len(up.Emails) > 0 {
		e.printf("Your e-mail address was updated to %s.\n", strings.Join(up.Emails, ","))
	}
	return nil
}

func runUnregister(ctx context.Context, e *env) error {
	st, unlock, err := openLockedStore(ctx, e)
	if err != nil {
		return err
	}
	defer unlock()
	if err := e.engine(st).Unregister(ctx); err != nil {
		return err
	}
	e.printf("Account deactivated.\n")
	return nil
}

func runShowAccount(ctx context.Context, e *env) error {
	st, err := openStore(e)
	if err != nil {
		return err
	}
	a, err := e.engine(st).ShowAccount(ctx)
	if err != nil {
		return err
	}
	if e.o.JSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{
			"server": a.Server, "id": a.ID, "url": a.URL, "status": a.Status,
			"contact": a.Contact, "thumbprint": a.Thumbprint,
		})
	}
	fmt.Fprintf(e.stdout, "Account details for server %s:\n  Account URL: %s\n  Account ID: %s\n  Account Thumbprint: %s\n",
		a.Server, a.URL, a.ID, a.Thumbprint)
	var emails []string
	for _, c := range a.Contact {
		emails = append(emails, strings.TrimPrefix(c, "mailto:"))
	}
	if len(emails) == 0 {
		fmt.Fprintln(e.stdout, "  Email contact: none")
	} else {
		fmt.Fprintf(e.stdout, "  Email contacts: %s\n", strings.Join(emails, ", "))
	}
	return nil
}
