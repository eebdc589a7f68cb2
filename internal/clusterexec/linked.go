//go:build !nocluster

package clusterexec

// HandOver does nothing: this build has the cluster linked in and runs
// --store and the cluster verbs itself.
func HandOver() error { return nil }
