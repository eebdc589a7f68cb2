package testparallel

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"testing"
)

// explicit records whether the command line gave -parallel.
var explicit bool

func TestMain(m *testing.M) {
	flag.Parse()
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if err := AtLeast(runtime.GOMAXPROCS(0) + 3); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

func TestAtLeast(t *testing.T) {
	before := flag.Lookup("test.parallel").Value.String()
	if want := fmt.Sprint(runtime.GOMAXPROCS(0) + 3); !explicit && before != want {
		t.Errorf("-test.parallel = %s after AtLeast(GOMAXPROCS+3), want %s", before, want)
	}
	// A value already set (by the command line or an earlier call) stays.
	if err := AtLeast(runtime.GOMAXPROCS(0) + 10); err != nil {
		t.Fatal(err)
	}
	if got := flag.Lookup("test.parallel").Value.String(); got != before {
		t.Errorf("-test.parallel = %s after a second AtLeast, want %s kept", got, before)
	}
}
