//go:build !linux

package prefault

// Outside Linux there is nothing to populate: the package does nothing.
