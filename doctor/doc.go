// Package doctor diagnoses a certbot tree: for each lineage, whether its
// next renewal would work and, when not, why and what to run. It reads the
// tree through package storage (no cache file, no lock) and checks the saved
// parameters with the engine's parameter table; DryRun then proves a
// lineage by a dry-run renewal through the engine (a function call with a
// typed result). It prints nothing but the report a caller asks it to write,
// and it never imports the command line.
//
// It must never import the command line (urfave/cli) or cmd/; it calls the
// engine (package manager) and package storage.
package doctor
