//go:build !alldns

package dns01

import (
	"slices"
	"testing"

	"github.com/acmectl/acmectl/challenge/dns01/providers"
)

// The names the binary offers are the providers the plugin (and a plain go
// build) can build.
func TestDefaultNamesArePackageProviders(t *testing.T) {
	if got, want := Providers(), providers.Names(); !slices.Equal(got, want) {
		t.Errorf("Providers() = %v, package providers has %v", got, want)
	}
	for _, n := range providers.Names() {
		if err := knownProvider(n); err != nil {
			t.Error(err)
		}
	}
}
