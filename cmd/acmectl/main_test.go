package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"testing"
)

// minParallel is how many of this package's parallel tests run at once
// unless -parallel says otherwise. The end-to-end tests mostly wait: on
// certbot's fixed one-second polls, on a CA that holds finalize open for
// 50 s, on the production timeouts of a dead CA (140 s). At the default
// (-parallel = GOMAXPROCS, 2 on a 2-core machine) the package used about
// half a core and took over 6 minutes, the longest of make test (issue 19).
const minParallel = 8

func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if n := runtime.GOMAXPROCS(0); !set && n < minParallel {
		if err := flag.Set("test.parallel", fmt.Sprint(minParallel)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	os.Exit(m.Run())
}
