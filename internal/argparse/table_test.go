package argparse

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLITableCoversCertbot: docs/cli.md has a row for every
// certbot option string, so that no certbot flag goes undecided.
func TestCLITableCoversCertbot(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, f := range MustNew(Certbot()).Flags() {
		if f == "-h" || f == "--help" {
			continue // the verbs table covers help
		}
		if !strings.Contains(doc, "| `"+f+"`") && !strings.Contains(doc, " `"+f+"`") {
			t.Errorf("docs/cli.md has no row for %s", f)
		}
	}
}
