package main

import (
	"os"
	"runtime/pprof"
)

func init() {
	if p := os.Getenv("ACMECTL_CPUPROFILE"); p != "" {
		f, _ := os.Create(p + "." + itoa(os.Getpid()))
		pprof.StartCPUProfile(f)
		profStop = func() { pprof.StopCPUProfile(); f.Close() }
	}
}

var profStop = func() {}

func itoa(n int) string {
	s := ""
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	return s
}
