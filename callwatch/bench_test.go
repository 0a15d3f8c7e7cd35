package callwatch

import (
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/ringout-dialer/ringout/dialer"
)

// BenchmarkFanOut measures one status change of a call delivered to every open page of its
// owner: queued by the hub and received by each subscriber's reader goroutine.
func BenchmarkFanOut(b *testing.B) {
	for _, n := range []int{1, 100, 1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			w := New(newFake(), newMemStore(), Options{
				MaxSubscribersPerOwner: n,
				Logger:                 slog.New(slog.DiscardHandler),
			})
			defer w.Close()

			var received sync.WaitGroup
			var readers sync.WaitGroup
			for range n {
				s, err := w.Subscribe("101", 4)
				if err != nil {
					b.Fatal(err)
				}
				readers.Go(func() {
					for range s.C {
						received.Done()
					}
				})
			}
			// A live call whose poller is the benchmark loop itself.
			c := newCall("101", "c1")
			e := &entry{call: c, live: true}
			w.mu.Lock()
			w.calls[c.ID] = e
			w.owners["101"].calls[c.ID] = e
			w.mu.Unlock()

			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				c.Status.Callee = []dialer.LegStatus{dialer.LegInProgress, dialer.LegSuccess}[i%2]
				received.Add(n)
				w.update(e, c)
				received.Wait()
			}
			b.StopTimer()
			if st := w.Stats(); st.Drops != 0 {
				b.Fatalf("%d subscribers dropped", st.Drops)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
			w.Close()
			readers.Wait()
		})
	}
}
