package storage

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"
)

func BenchmarkZZSetARI(b *testing.B) {
	for _, par := range []int{1} {
		b.Run(fmt.Sprint(par), func(b *testing.B) {
			tr := benchTree(b, 1000)
			infos, _ := tr.ListLineages(context.Background())
			unlock, _ := tr.LockTree(context.Background())
			defer unlock()
			var r0, r1 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
			b.ResetTimer()
			defer func() {
				syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
				u := time.Duration(r1.Utime.Nano()-r0.Utime.Nano())
				sy := time.Duration(r1.Stime.Nano()-r0.Stime.Nano())
				b.ReportMetric(float64(u.Milliseconds())/float64(b.N), "user-ms/op")
				b.ReportMetric(float64(sy.Milliseconds())/float64(b.N), "sys-ms/op")
			}()
			for i := 0; i < b.N; i++ {
				ch := make(chan string)
				var wg sync.WaitGroup
				for w := 0; w < par; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for n := range ch {
							if err := tr.SetARIRetryAfter(context.Background(), n, time.Now().Add(time.Hour)); err != nil {
								b.Error(err)
							}
						}
					}()
				}
				for _, li := range infos {
					ch <- li.Name
				}
				close(ch)
				wg.Wait()
			}
		})
	}
}
