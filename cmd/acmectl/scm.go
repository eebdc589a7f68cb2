package main

// acmectl scm: the front-end of package scm (flags, credentials precedence,
// tables, JSON, warnings, exit codes) for Sectigo Certificate Manager (SCM)
// ACME accounts, their domains and clients, and `scm onboard`, which goes
// from nothing to a certificate: scm.Onboard finds or creates the SCM ACME
// account, assigns the missing domains and returns its EAB credentials in
// memory; runOnboardIssue (scm_issue.go) then registers and issues with
// them in this process, so the HMAC key never appears in an argv.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/acmectl/acmectl/scm"
)

// Flag names and environment variables of the scm commands.
const (
	flgSCMURL         = "scm-url"
	flgSCMLogin       = "login"
	flgSCMCustomerURI = "customer-uri"
	flgSCMPassFile    = "password-file"
	flgSCMCredentials = "scm-credentials"
	flgSCMClientCert  = "client-cert"
	flgSCMClientKey   = "client-key"
	flgSCMCABundle    = "scm-ca-bundle"
	flgSCMTimeout     = "scm-timeout"
	flgSCMJSON        = "json"
	flgSCMShowSecrets = "show-secrets"
	flgSCMOrgID       = "org-id"
	flgSCMOrgOnly     = "org-only"
	flgSCMName        = "name"
	flgSCMACMEServer  = "acme-server"
	flgSCMValidation  = "validation-type"
	flgSCMStatus      = "status"
	flgSCMDomain      = "domain"
	flgSCMExpires     = "expires-within"
	flgSCMNoCert      = "no-certificate"

	envSCMURL         = "SCM_URL"
	envSCMLogin       = "SCM_LOGIN"
	envSCMPassword    = "SCM_PASSWORD"
	envSCMCustomerURI = "SCM_CUSTOMER_URI"
)

// scmCommand is `acmectl scm` and its subcommands.
func scmCommand() *cli.Command { return scmCommandWith(runOnboardIssue) }

// scmCommandWith is scmCommand with issue as the last step of scm onboard.
func scmCommandWith(issue func(*cli.Context, onboardIssue) error) *cli.Command {
	return scmMarkUsageErrors(&cli.Command{
		Name:  "scm",
		Usage: "manage Sectigo Certificate Manager ACME accounts and onboard a server",
		Description: `Talks to the Sectigo Certificate Manager (SCM) REST API.

Credentials, first found wins: flags (--login, --customer-uri, --password-file,
--scm-url), the environment (SCM_LOGIN, SCM_PASSWORD, SCM_CUSTOMER_URI, SCM_URL),
then --scm-credentials FILE, whose lines are "key = value" with the keys
login, password, customer_uri, url, client_cert, client_key, ca_bundle
(# starts a comment). The file and --password-file must not be readable by
other users (chmod 600). The password is never printed or logged.

With --client-cert/--client-key, SCM's client-certificate authentication is
used: requests go to <url>/private/... (https://cert-manager.com/private/api)
and no password is sent.

Flags go before positional arguments: "acmectl scm account show --json 100".`,
		Subcommands: []*cli.Command{
			{
				Name:   "servers",
				Usage:  "list the ACME servers of the SCM tenant",
				Flags:  append(scmConnFlags(), scmJSONFlag(), &cli.StringFlag{Name: flgSCMValidation, Usage: "only DV, OV or EV servers"}),
				Action: scmServers,
			},
			{
				Name:  "account",
				Usage: "list, show, create, rename or delete SCM ACME accounts",
				Subcommands: []*cli.Command{
					{
						Name:  "list",
						Usage: "list ACME accounts (every page)",
						Flags: append(scmConnFlags(), scmJSONFlag(),
							&cli.IntFlag{Name: flgSCMOrgID, Usage: "only accounts of this organization (and its departments)"},
							&cli.BoolFlag{Name: flgSCMOrgOnly, Usage: "with --org-id: the organization only, not its departments"},
							&cli.StringFlag{Name: flgSCMName, Usage: "account name"},
							&cli.StringFlag{Name: flgSCMACMEServer, Usage: "ACME server name or URL"},
							&cli.StringFlag{Name: flgSCMValidation, Usage: "DV, OV or EV"},
							&cli.StringFlag{Name: flgSCMStatus, Usage: "account status (pending, valid, ...; any case)"}),
						Action: scmAccountList,
					},
					{
						Name:      "show",
						Usage:     "show one account, including its EAB key id (the HMAC key only with --show-secrets)",
						ArgsUsage: "ACCOUNT_ID",
						Flags: append(scmConnFlags(), scmJSONFlag(),
							&cli.BoolFlag{Name: flgSCMShowSecrets, Usage: "print the EAB HMAC key (macKey) instead of masking it"}),
						Action: scmAccountShow,
					},
					{
						Name:  "create",
						Usage: "create an ACME account (then assign domains with `scm domain add`)",
						Flags: append(scmConnFlags(), scmJSONFlag(),
							&cli.IntFlag{Name: flgSCMOrgID, Usage: "SCM organization (or department) id", Required: true},
							&cli.StringFlag{Name: flgSCMName, Usage: "account name (1-128 characters)", Required: true},
							&cli.StringFlag{Name: flgSCMACMEServer, Aliases: []string{flgServer}, Usage: "ACME server: a name or URL from `scm servers`, or an alias such as sectigo-ov (SCM stores its URL)", Required: true},
							&cli.StringFlag{Name: flgSCMValidation, Usage: "DV, OV or EV (default: the server's)"}),
						Action: scmAccountCreate,
					},
					{
						Name:      "rename",
						Usage:     "rename an ACME account",
						ArgsUsage: "ACCOUNT_ID NEW_NAME",
						Flags:     scmConnFlags(),
						Action:    scmAccountRename,
					},
					{
						Name:      "delete",
						Usage:     "delete an ACME account (ACME clients using its EAB stop working)",
						ArgsUsage: "ACCOUNT_ID",
						Flags:     scmConnFlags(),
						Action:    scmAccountDelete,
					},
				},
			},
			{
				Name:  "domain",
				Usage: "add, remove or list the domains of an SCM ACME account",
				Subcommands: []*cli.Command{
					{
						Name:      "add",
						Usage:     "assign domains to an account",
						ArgsUsage: "ACCOUNT_ID [DOMAIN...]",
						Flags:     append(scmConnFlags(), scmDomainFlag()),
						Action:    func(c *cli.Context) error { return scmDomainChange(c, true) },
					},
					{
						Name:      "remove",
						Usage:     "remove domains from an account",
						ArgsUsage: "ACCOUNT_ID [DOMAIN...]",
						Flags:     append(scmConnFlags(), scmDomainFlag()),
						Action:    func(c *cli.Context) error { return scmDomainChange(c, false) },
					},
					{
						Name:      "list",
						Usage:     "list the domains of an account",
						ArgsUsage: "ACCOUNT_ID",
						Flags: append(scmConnFlags(), scmJSONFlag(),
							&cli.StringFlag{Name: flgSCMName, Usage: `regular expression on the name, e.g. '^www\.example\.com$'`},
							&cli.IntFlag{Name: flgSCMExpires, Usage: "only domains whose validation expires within DAYS"}),
						Action: scmDomainList,
					},
				},
			},
			{
				Name:  "client",
				Usage: "list or deactivate the ACME clients registered with an account's EAB",
				Subcommands: []*cli.Command{
					{
						Name:      "list",
						Usage:     "list the ACME clients of an account",
						ArgsUsage: "ACCOUNT_ID",
						Flags: append(scmConnFlags(), scmJSONFlag(),
							&cli.StringFlag{Name: flgSCMStatus, Usage: "valid, pending, deactivated (any case)"}),
						Action: scmClientList,
					},
					{
						Name:      "deactivate",
						Usage:     "deactivate one ACME client (by its ACME account id)",
						ArgsUsage: "ACCOUNT_ID CLIENT_ID",
						Flags:     scmConnFlags(),
						Action:    scmClientDeactivate,
					},
				},
			},
			{
				Name:  "onboard",
				Usage: "find or create the SCM ACME account, assign domains, then register and obtain the certificate",
				UsageText: `acmectl scm onboard --org-id N --name NAME --server sectigo-ov -d a.example -d b.example
    [--email E] [--no-certificate] [SCM credential flags] [-- CERTONLY FLAGS...]`,
				Description: `Onboarding in one command, safe to repeat:

  1. find the SCM ACME account by --name in --org-id on --server, or create it;
  2. list its domains and add the missing ones (nothing is sent when all are
     assigned; domains SCM refuses are named and the command fails);
  3. read the account's EAB key id and HMAC key (macId/macKey);
  4. run "acmectl certonly" in the same process with --server, --eab-kid,
     --eab-hmac-key, -d ..., --email and --cert-name NAME, followed by
     everything after "--"; with --no-certificate, "acmectl register" instead.

--server is an alias (sectigo-ov, sectigo-dv, ...), a directory URL, or an SCM
server name; it must be one of the tenant's servers (acmectl scm servers).
Flags for certonly go after "--", for example:

  acmectl scm onboard --org-id 1823 --name web-prod-01 --server sectigo-ov \
      -d www.example.com --email ops@example.com -- --standalone --agree-tos -n

A --cert-name after "--" replaces the default (the account name). --server,
--eab-*, -d and --email belong to onboard itself, not after "--".`,
				Flags: append(scmConnFlags(),
					&cli.IntFlag{Name: flgSCMOrgID, Usage: "SCM organization (or department) id", Required: true},
					&cli.StringFlag{Name: flgSCMName, Usage: "SCM ACME account name (also the default --cert-name)", Required: true},
					&cli.StringFlag{Name: flgServer, Usage: "ACME server: alias (sectigo-ov), directory URL or SCM server name", Required: true},
					&cli.StringSliceFlag{Name: flgDomains, Aliases: []string{"d", "domain"}, Usage: "domain; repeat or comma-separate", Required: true},
					&cli.StringFlag{Name: flgEmail, Aliases: []string{"m"}, Usage: "ACME account e-mail, passed to certonly/register"},
					&cli.BoolFlag{Name: flgSCMNoCert, Usage: "register the ACME account only (acmectl register), obtain no certificate"}),
				Action: func(c *cli.Context) error { return scmOnboard(c, issue) },
			},
		},
	})
}

// scmMarkUsageErrors makes flag errors of cmd and its subcommands, and the
// scm package's input errors, usage errors (exit code 2), as the rest of the
// app does.
func scmMarkUsageErrors(cmd *cli.Command) *cli.Command {
	cmd.OnUsageError = func(_ *cli.Context, err error, _ bool) error {
		name := cmd.HelpName // "acmectl scm account list" once the app ran Setup
		if name == "" {
			name = cmd.Name
		}
		return usageErrorf("%s: %w", name, err)
	}
	if act := cmd.Action; act != nil {
		cmd.Action = func(c *cli.Context) error { return scmUsage(act(c)) }
	}
	for _, sub := range cmd.Subcommands {
		scmMarkUsageErrors(sub)
	}
	return cmd
}

func scmJSONFlag() cli.Flag {
	return &cli.BoolFlag{Name: flgSCMJSON, Usage: "print JSON instead of a table"}
}

func scmDomainFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: flgSCMDomain, Aliases: []string{"d"}, Usage: "domain; repeat or comma-separate (or give domains as arguments)"}
}

// scmConnFlags are the connection and credential flags of every scm command.
func scmConnFlags() []cli.Flag {
	const cat = "SCM connection"
	return []cli.Flag{
		&cli.StringFlag{Name: flgSCMURL, EnvVars: []string{envSCMURL}, Category: cat, Usage: "SCM REST base URL (default " + scm.DefaultBaseURL + ")"},
		&cli.StringFlag{Name: flgSCMLogin, EnvVars: []string{envSCMLogin}, Category: cat, Usage: "SCM admin login"},
		&cli.StringFlag{Name: flgSCMCustomerURI, EnvVars: []string{envSCMCustomerURI}, Category: cat, Usage: "customer URI (the part after /customer/ in the portal URL)"},
		&cli.StringFlag{Name: flgSCMPassFile, Category: cat, Usage: "file holding the SCM password (or set " + envSCMPassword + ")"},
		&cli.StringFlag{Name: flgSCMCredentials, Category: cat, Usage: "credentials file of key = value lines (mode 0600)"},
		&cli.StringFlag{Name: flgSCMClientCert, Category: cat, Usage: "client certificate (PEM) for SCM client-certificate authentication"},
		&cli.StringFlag{Name: flgSCMClientKey, Category: cat, Usage: "private key (PEM) of --client-cert"},
		&cli.StringFlag{Name: flgSCMCABundle, Category: cat, Usage: "extra CA certificates (PEM) to trust for the SCM API"},
		&cli.DurationFlag{Name: flgSCMTimeout, Category: cat, Value: 60 * time.Second, Usage: "timeout of each SCM call"},
	}
}

// scmAccountArgs reads the ACCOUNT_ID argument of a subcommand that takes
// exactly n arguments, and connects to SCM.
func scmAccountArgs(c *cli.Context, n int) (int, *scm.Client, error) {
	id, err := scmArgID(c, 0, "ACCOUNT_ID")
	if err != nil {
		return 0, nil, err
	}
	if err := scmWantArgs(c, n); err != nil {
		return 0, nil, err
	}
	cl, err := scmClient(c)
	if err != nil {
		return 0, nil, err
	}
	return id, cl, nil
}

// scmClient builds an *scm.Client from flags, the environment and the
// credentials file, in that order of precedence.
func scmClient(c *cli.Context) (*scm.Client, error) {
	var s scm.Credentials
	if f := c.String(flgSCMCredentials); f != "" {
		var err error
		if s, err = scm.ReadCredentialsFile(f); err != nil {
			return nil, err
		}
	}
	for _, o := range []struct {
		dst  *string
		flag string
	}{{&s.URL, flgSCMURL}, {&s.Login, flgSCMLogin}, {&s.CustomerURI, flgSCMCustomerURI},
		{&s.ClientCert, flgSCMClientCert}, {&s.ClientKey, flgSCMClientKey}, {&s.CABundle, flgSCMCABundle}} {
		if v := c.String(o.flag); v != "" {
			*o.dst = v
		}
	}
	if f := c.String(flgSCMPassFile); f != "" {
		data, err := scm.ReadPrivateFile(f, "--"+flgSCMPassFile)
		if err != nil {
			return nil, err
		}
		line, _, _ := strings.Cut(string(data), "\n")
		if s.Password = scm.Secret(strings.TrimRight(line, "\r")); s.Password == "" {
			return nil, usageErrorf("password file %s is empty", f)
		}
	} else if p := os.Getenv(envSCMPassword); p != "" {
		s.Password = scm.Secret(p)
	}
	if s.URL == "" {
		s.URL = scm.DefaultBaseURL
	}
	useCert := s.ClientCert != "" || s.ClientKey != ""
	switch {
	case s.Login == "":
		return nil, usageErrorf("no SCM login: pass --%s, set %s or put login = ... in --%s", flgSCMLogin, envSCMLogin, flgSCMCredentials)
	case s.CustomerURI == "":
		return nil, usageErrorf("no SCM customer URI: pass --%s, set %s or put customer_uri = ... in --%s", flgSCMCustomerURI, envSCMCustomerURI, flgSCMCredentials)
	case useCert && (s.ClientCert == "" || s.ClientKey == ""):
		return nil, usageErrorf("client-certificate authentication needs both --%s and --%s", flgSCMClientCert, flgSCMClientKey)
	case !useCert && s.Password == "":
		return nil, usageErrorf("no SCM password: pass --%s, set %s, put password = ... in --%s, or use --%s/--%s", flgSCMPassFile, envSCMPassword, flgSCMCredentials, flgSCMClientCert, flgSCMClientKey)
	}
	tlsConfig, err := s.TLSConfig("--" + flgSCMClientKey)
	if err != nil {
		return nil, err
	}
	return &scm.Client{
		BaseURL:     s.URL,
		Login:       s.Login,
		CustomerURI: s.CustomerURI,
		Password:    s.Password,
		ClientCert:  useCert,
		HTTPClient:  scm.NewHTTPClient(tlsConfig),
		Timeout:     c.Duration(flgSCMTimeout),
		UserAgent:   "acmectl/" + version,
	}, nil
}

// scmUsage makes the errors the scm package blames on the input (a bad
// credentials file, domain or server name) usage errors: exit code 2.
func scmUsage(err error) error {
	var ie *scm.InputError
	var se *scm.UnknownServerError
	if errors.As(err, &ie) || errors.As(err, &se) {
		return &usageError{err}
	}
	return err
}

// scmArgID parses positional argument i as an SCM id.
func scmArgID(c *cli.Context, i int, what string) (int, error) {
	v := c.Args().Get(i)
	if v == "" {
		return 0, usageErrorf("missing %s: acmectl %s %s", what, c.Command.HelpName, c.Command.ArgsUsage)
	}
	id, err := strconv.Atoi(v)
	if err != nil || id <= 0 {
		return 0, usageErrorf("%s %q: want a positive number", what, v)
	}
	return id, nil
}

func scmWantArgs(c *cli.Context, n int) error {
	if c.NArg() > n {
		return usageErrorf("unexpected argument %q (flags go before arguments): acmectl %s %s", c.Args().Get(n), c.Command.HelpName, c.Command.ArgsUsage)
	}
	return nil
}

func scmPrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func scmTable(w io.Writer, header string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func scmOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func scmServers(c *cli.Context) error {
	if err := scmWantArgs(c, 0); err != nil {
		return err
	}
	cl, err := scmClient(c)
	if err != nil {
		return err
	}
	ss, err := cl.ListServers(c.Context, scm.ServerFilter{CertValidationType: c.String(flgSCMValidation)})
	if err != nil {
		return err
	}
	if c.Bool(flgSCMJSON) {
		return scmPrintJSON(c.App.Writer, scmNonNil(ss))
	}
	rows := make([][]string, 0, len(ss))
	for _, s := range ss {
		rows = append(rows, []string{scmOrDash(s.Name), scmOrDash(s.CertValidationType), strconv.Itoa(s.CAID), s.URL})
	}
	return scmTable(c.App.Writer, "NAME\tTYPE\tCA ID\tURL", rows)
}

func scmNonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// scmAccountView is an account as printed; MACKey is masked unless asked for.
type scmAccountView struct {
	ID                 int    `json:"id"`
	Name               string `json:"name"`
	AccountID          string `json:"accountId"`
	ACMEServer         string `json:"acmeServer"`
	OrganizationID     int    `json:"organizationId"`
	CertValidationType string `json:"certValidationType"`
	Status             string `json:"status"`
	Contacts           string `json:"contacts,omitempty"`
	ValidationID       string `json:"validationId,omitempty"`
	MACID              string `json:"macId"`
	MACKey             string `json:"macKey"`
}

const scmMaskedSecret = "******** (hidden; --show-secrets prints it)"

func scmViewAccount(a *scm.Account, showSecrets bool) scmAccountView {
	v := scmAccountView{ID: a.ID, Name: a.Name, AccountID: a.AccountID, ACMEServer: a.ACMEServer, OrganizationID: a.OrganizationID,
		CertValidationType: a.CertValidationType, Status: a.Status, Contacts: a.Contacts, ValidationID: a.ValidationID,
		MACID: a.MACID, MACKey: "redacted"}
	if showSecrets {
		v.MACKey = string(a.MACKey)
	}
	return v
}

func scmPrintAccount(c *cli.Context, a *scm.Account, showSecrets bool) error {
	v := scmViewAccount(a, showSecrets)
	if c.Bool(flgSCMJSON) {
		return scmPrintJSON(c.App.Writer, v)
	}
	key := scmMaskedSecret
	if showSecrets {
		key = v.MACKey
	}
	if a.MACKey == "" {
		key = "-"
	}
	rows := [][]string{
		{"ID:", strconv.Itoa(v.ID)},
		{"Name:", v.Name},
		{"Status:", scmOrDash(v.Status)},
		{"ACME server:", scmOrDash(v.ACMEServer)},
		{"Organization ID:", strconv.Itoa(v.OrganizationID)},
		{"Validation type:", scmOrDash(v.CertValidationType)},
		{"ACME account ID:", scmOrDash(v.AccountID)},
		{"EAB key ID (macId):", scmOrDash(v.MACID)},
		{"EAB HMAC key (macKey):", key},
	}
	if v.Contacts != "" {
		rows = append(rows, []string{"Contacts:", v.Contacts})
	}
	tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 1, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func scmAccountList(c *cli.Context) error {
	if err := scmWantArgs(c, 0); err != nil {
		return err
	}
	cl, err := scmClient(c)
	if err != nil {
		return err
	}
	f := scm.AccountFilter{
		OrganizationID: c.Int(flgSCMOrgID), OrganizationOnly: c.Bool(flgSCMOrgOnly), Name: c.String(flgSCMName),
		ACMEServer: c.String(flgSCMACMEServer), CertValidationType: c.String(flgSCMValidation), Status: c.String(flgSCMStatus),
	}
	if f.OrganizationOnly && f.OrganizationID == 0 {
		return usageErrorf("--%s needs --%s", flgSCMOrgOnly, flgSCMOrgID)
	}
	as, err := cl.ListAccounts(c.Context, f)
	if err != nil {
		return err
	}
	if c.Bool(flgSCMJSON) {
		vs := make([]scmAccountView, 0, len(as))
		for i := range as {
			vs = append(vs, scmViewAccount(&as[i], false))
		}
		return scmPrintJSON(c.App.Writer, vs)
	}
	rows := make([][]string, 0, len(as))
	for _, a := range as {
		rows = append(rows, []string{strconv.Itoa(a.ID), a.Name, scmOrDash(a.Status), strconv.Itoa(a.OrganizationID), scmOrDash(a.CertValidationType), scmOrDash(a.ACMEServer)})
	}
	return scmTable(c.App.Writer, "ID\tNAME\tSTATUS\tORG\tTYPE\tACME SERVER", rows)
}

func scmAccountShow(c *cli.Context) error {
	id, cl, err := scmAccountArgs(c, 1)
	if err != nil {
		return err
	}
	a, err := cl.GetAccount(c.Context, id)
	if err != nil {
		return err
	}
	return scmPrintAccount(c, a, c.Bool(flgSCMShowSecrets))
}

func scmAccountCreate(c *cli.Context) error {
	if err := scmWantArgs(c, 0); err != nil {
		return err
	}
	cl, err := scmClient(c)
	if err != nil {
		return err
	}
	srv, err := cl.FindServer(c.Context, c.String(flgSCMACMEServer), resolveServer)
	if err != nil {
		return err
	}
	a, err := cl.CreateAccount(c.Context, scm.AccountRequest{
		Name: c.String(flgSCMName), ACMEServer: srv.URL, OrganizationID: c.Int(flgSCMOrgID),
		CertValidationType: c.String(flgSCMValidation),
	})
	if err != nil {
		return err
	}
	if !c.Bool(flgSCMJSON) {
		fmt.Fprintf(c.App.ErrWriter, "Created SCM ACME account %q (id %d).\n", a.Name, a.ID)
	}
	return scmPrintAccount(c, a, false)
}

func scmAccountRename(c *cli.Context) error {
	id, err := scmArgID(c, 0, "ACCOUNT_ID")
	if err != nil {
		return err
	}
	name := c.Args().Get(1)
	if strings.TrimSpace(name) == "" {
		return usageErrorf("missing NEW_NAME: acmectl %s %s", c.Command.HelpName, c.Command.ArgsUsage)
	}
	if err := scmWantArgs(c, 2); err != nil {
		return err
	}
	cl, err := scmClient(c)
	if err != nil {
		return err
	}
	if err := cl.RenameAccount(c.Context, id, name); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "Renamed SCM ACME account %d to %q.\n", id, name)
	return nil
}

func scmAccountDelete(c *cli.Context) error {
	id, cl, err := scmAccountArgs(c, 1)
	if err != nil {
		return err
	}
	if err := cl.DeleteAccount(c.Context, id); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "Deleted SCM ACME account %d.\n", id)
	return nil
}

func scmDomainChange(c *cli.Context, add bool) error {
	id, err := scmArgID(c, 0, "ACCOUNT_ID")
	if err != nil {
		return err
	}
	domains, err := scm.NormalizeDomains(append(c.StringSlice(flgSCMDomain), c.Args().Slice()[1:]...))
	if err != nil {
		return err
	}
	if len(domains) == 0 {
		return usageErrorf("no domains given: acmectl %s ACCOUNT_ID DOMAIN... (or -d DOMAIN)", c.Command.HelpName)
	}
	cl, err := scmClient(c)
	if err != nil {
		return err
	}
	if add {
		err = cl.AddDomains(c.Context, id, domains)
	} else {
		err = cl.RemoveDomains(c.Context, id, domains)
	}
	var de *scm.DomainError
	if errors.As(err, &de) {
		done := scm.Without(domains, de.Domains)
		if len(done) > 0 {
			fmt.Fprintf(c.App.Writer, "%s: %s\n", map[bool]string{true: "Added", false: "Removed"}[add], strings.Join(done, ", "))
		}
		return scmDomainWarning(c, de)
	}
	if err != nil {
		return err
	}
	verb := "Removed from"
	if add {
		verb = "Added to"
	}
	fmt.Fprintf(c.App.Writer, "%s SCM ACME account %d: %s\n", verb, id, strings.Join(domains, ", "))
	return nil
}

// scmDomainWarning prints a warning naming the domains SCM refused and returns
// the error that makes the command exit non-zero.
func scmDomainWarning(c *cli.Context, de *scm.DomainError) error {
	if de.Op == "add" {
		fmt.Fprintf(c.App.ErrWriter, "WARNING: SCM did not add %d domain(s) to ACME account %d: %s\n"+
			"  Check that each exists in SCM, is delegated to the account's organization and has a valid DCV.\n",
			len(de.Domains), de.AccountID, strings.Join(de.Domains, ", "))
		return fmt.Errorf("domains not added to SCM ACME account %d: %s", de.AccountID, strings.Join(de.Domains, ", "))
	}
	fmt.Fprintf(c.App.ErrWriter, "WARNING: SCM did not remove %d domain(s) from ACME account %d: %s\n",
		len(de.Domains), de.AccountID, strings.Join(de.Domains, ", "))
	return fmt.Errorf("domains not removed from SCM ACME account %d: %s", de.AccountID, strings.Join(de.Domains, ", "))
}

func scmDomainList(c *cli.Context) error {
	id, cl, err := scmAccountArgs(c, 1)
	if err != nil {
		return err
	}
	ds, err := cl.ListDomains(c.Context, id, scm.DomainFilter{Name: c.String(flgSCMName), ExpiresWithinNextDays: c.Int(flgSCMExpires)})
	if err != nil {
		return err
	}
	if c.Bool(flgSCMJSON) {
		return scmPrintJSON(c.App.Writer, scmNonNil(ds))
	}
	rows := make([][]string, 0, len(ds))
	for _, d := range ds {
		rows = append(rows, []string{d.Name, scmOrDash(d.ValidUntil), scmOrDash(d.StickyUntil)})
	}
	return scmTable(c.App.Writer, "DOMAIN\tVALID UNTIL\tSTICKY UNTIL", rows)
}

func scmClientList(c *cli.Context) error {
	id, cl, err := scmAccountArgs(c, 1)
	if err != nil {
		return err
	}
	cs, err := cl.ListClients(c.Context, id, scm.ClientFilter{Status: c.String(flgSCMStatus)})
	if err != nil {
		return err
	}
	if c.Bool(flgSCMJSON) {
		return scmPrintJSON(c.App.Writer, scmNonNil(cs))
	}
	rows := make([][]string, 0, len(cs))
	for _, x := range cs {
		rows = append(rows, []string{x.AccountID, scmOrDash(x.Status), scmOrDash(x.IPAddress), scmOrDash(x.LastActivity), scmOrDash(x.UserAgent), scmOrDash(x.Contacts)})
	}
	return scmTable(c.App.Writer, "CLIENT ID\tSTATUS\tIP ADDRESS\tLAST ACTIVITY\tUSER AGENT\tCONTACTS", rows)
}

func scmClientDeactivate(c *cli.Context) error {
	id, err := scmArgID(c, 0, "ACCOUNT_ID")
	if err != nil {
		return err
	}
	clientID := c.Args().Get(1)
	if clientID == "" {
		return usageErrorf("missing CLIENT_ID: acmectl %s %s", c.Command.HelpName, c.Command.ArgsUsage)
	}
	if err := scmWantArgs(c, 2); err != nil {
		return err
	}
	cl, err := scmClient(c)
	if err != nil {
		return err
	}
	if err := cl.DeactivateClient(c.Context, id, clientID); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "Deactivated ACME client %s of SCM ACME account %d.\n", clientID, id)
	return nil
}

// scmOnboardReserved are certonly flags that onboard sets itself; they may not
// follow "--".
var scmOnboardReserved = []string{flgServer, flgEABKid, flgEABHMACKey, flgEABKeyFile, flgDomains, "d", "domain", flgEmail, "m"}

// scmArgHasFlag reports whether args (up to a "--") set one of the flags names.
func scmArgHasFlag(args []string, names ...string) (string, bool) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		n := strings.TrimLeft(a, "-")
		n, _, _ = strings.Cut(n, "=")
		for _, want := range names {
			if n == want {
				return a, true
			}
		}
	}
	return "", false
}

// scmOnboard is "acmectl scm onboard": the SCM side through scm.Onboard,
// then certonly (or register) in this process with the EAB credentials in
// memory (runOnboardIssue); the HMAC key never reaches an argv.
func scmOnboard(c *cli.Context, issue func(*cli.Context, onboardIssue) error) error {
	pass := c.Args().Slice()
	if len(pass) > 0 && pass[0] == "--" {
		pass = pass[1:]
	}
	if a, bad := scmArgHasFlag(pass, scmOnboardReserved...); bad {
		return usageErrorf("%s after \"--\": give --server, -d and --email to scm onboard itself; onboard supplies the EAB credentials", strings.SplitN(a, "=", 2)[0])
	}
	if len(pass) > 0 && !strings.HasPrefix(pass[0], "-") {
		return usageErrorf("unexpected argument %q: certonly flags go after \"--\"", pass[0])
	}
	req := scm.OnboardRequest{OrganizationID: c.Int(flgSCMOrgID), AccountName: strings.TrimSpace(c.String(flgSCMName)),
		Server: c.String(flgServer), ServerAlias: resolveServer, Domains: c.StringSlice(flgDomains)}
	domains, err := scm.NormalizeDomains(req.Domains)
	switch {
	case err != nil:
		return err
	case len(domains) == 0:
		return usageErrorf("no domains: pass -d DOMAIN")
	case req.AccountName == "":
		return usageErrorf("--%s is empty", flgSCMName)
	case req.OrganizationID <= 0:
		return usageErrorf("--%s %d: want a positive SCM organization id", flgSCMOrgID, req.OrganizationID)
	}
	cl, err := scmClient(c)
	if err != nil {
		return err
	}
	out := c.App.ErrWriter
	req.Progress = func(ev scm.OnboardEvent) { writeOnboardEvent(out, ev) }
	ob, err := cl.Onboard(c.Context, req)
	var de *scm.DomainError
	if errors.As(err, &de) {
		return scmDomainWarning(c, de)
	}
	if err != nil {
		return err
	}
	r := onboardIssue{Onboarding: ob, RegisterOnly: c.Bool(flgSCMNoCert), Email: c.String(flgEmail), CertonlyFlags: pass}
	fmt.Fprintf(out, "Running acmectl %s with the EAB credentials of SCM ACME account %d (key id %s).\n", r.command(), ob.Account.ID, ob.EAB.KeyID)
	if err := issue(c, r); err != nil {
		return fmt.Errorf("scm onboard: %s: %w", r.command(), err)
	}
	return nil
}

// writeOnboardEvent prints one step of scm.Onboard.
func writeOnboardEvent(w io.Writer, ev scm.OnboardEvent) {
	a := ev.Account
	switch ev.Step {
	case scm.StepAccountCreated:
		fmt.Fprintf(w, "Created SCM ACME account %q (id %d) on %s.\n", a.Name, a.ID, ev.Server.URL)
	case scm.StepAccountFound:
		fmt.Fprintf(w, "Using SCM ACME account %q (id %d, status %s).\n", a.Name, a.ID, scmOrDash(a.Status))
	case scm.StepDomainsAdded:
		fmt.Fprintf(w, "Added to SCM ACME account %d: %s\n", a.ID, strings.Join(ev.Domains, ", "))
	case scm.StepDomainsPresent:
		fmt.Fprintf(w, "All %d domain(s) already assigned to SCM ACME account %d.\n", len(ev.Domains), a.ID)
	}
}
