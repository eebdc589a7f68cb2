package acme

import (
	"log/slog"
	"time"
)

func attrURL(u string) slog.Attr            { return slog.String("url", u) }
func attrAttempt(n int) slog.Attr           { return slog.Int("attempt", n) }
func attrErr(err error) slog.Attr           { return slog.Any("error", err) }
func attrRetryIn(d time.Duration) slog.Attr { return slog.Duration("retry_in", d) }
func attrIdentifier(v string) slog.Attr     { return slog.String("identifier", v) }
func attrOrderURL(u string) slog.Attr       { return slog.String("order_url", u) }
func attrChallengeType(t string) slog.Attr  { return slog.String("challenge_type", t) }
