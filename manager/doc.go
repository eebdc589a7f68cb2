// Package manager is acmectl's engine: what certbot's renewal.py, main.py and
// NamespaceConfig do, as a library a front-end, a daemon or a second store can
// import.
//
// It owns:
//   - the parameter table (Params): every parameter's certbot flag names,
//     destination, type, default, validation, renewal-conf key and whether a
//     renewal keeps it. Flags (cmd/), cli.ini (ApplyCLIIni), conf reading
//     (LineageConfig) and writing, reconfigure and doctor all come from it;
//   - Config, the validated configuration (LoadConfig, DefaultConfig);
//   - the due policy (certbot 4.1's should_renew with ARI);
//   - accounts (find, register with EAB, update, roll over, deactivate);
//   - Certonly, Renew (bounded parallelism per CA), Reconfigure, Revoke,
//     DeleteLineage, CertonlyCSR, and their dry runs;
//   - hooks: pre, deploy, post and the renewal-hooks directories, all through
//     the one runner (internal/hookrun) with acmectl's secrets removed;
//   - events: every outcome is reported to an Observer; the engine never
//     prints, prompts only through a Prompter, and never exits.
//
// It keeps certificates in a Store (storage.Storage: certbot's tree today),
// and offers an Installer and Authenticators as the points where web-server
// plugins deploy, reload once per run, and answer challenges.
//
// It must never import the command line (urfave/cli), cmd/, doctor or scm;
// internal/depcheck enforces it.
package manager
