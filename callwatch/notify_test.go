package callwatch

import (
	"sync"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

// A subscriber with a wake-up call needs no goroutine waiting on C: woken, it drains C and
// sees every state up to the final one, and is woken once more when C closes.
func TestSubscribeFuncWakesTheReceiver(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		buf        int
		readOnWake bool // false: never read, so the hub drops the subscription
		wantDrop   bool
	}{
		{"drained on every wake-up", 4, true, false},
		{"dropped when not drained", 1, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			up := newFake()
			up.add("101", "c1", step{0, ringing, nil}, step{10 * time.Millisecond, answered, nil}, step{20 * time.Millisecond, finished, nil})
			w := newWatcher(t, up, newMemStore(), Options{})
			w.Watch(newCall("101", "c1")) // known before the subscription: replayed first

			var (
				mu     sync.Mutex
				sub    *Subscription
				got    []dialer.Call
				done   bool
				closed = make(chan struct{})
			)
			drain := func() {
				mu.Lock()
				defer mu.Unlock()
				if sub == nil || done || !tt.readOnWake && !isClosed(sub) {
					return
				}
				for {
					select {
					case c, ok := <-sub.C:
						if !ok {
							done = true
							close(closed)
							return
						}
						got = append(got, *c)
						continue
					default:
					}
					return
				}
			}
			s, err := w.SubscribeFunc("101", tt.buf, func() { go drain() })
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			sub = s
			mu.Unlock()
			go drain() // a wake-up may have come before sub was set

			if tt.wantDrop {
				// However the polls of c1 fall, two new calls are two more states at once:
				// more than the buffer holds.
				for _, id := range []string{"c2", "c3"} {
					up.add("101", id, step{0, ringing, nil})
					w.Watch(newCall("101", id))
				}
				select {
				case <-s.Dropped():
				case <-time.After(waitLimit):
					t.Fatal("an undrained subscription was not dropped")
				}
				go drain()
			} else {
				eventually(t, "the final state", func() bool {
					mu.Lock()
					defer mu.Unlock()
					return len(got) > 0 && got[len(got)-1].Status.Final()
				})
				s.Close()
			}
			select {
			case <-closed:
			case <-time.After(waitLimit):
				t.Fatal("no wake-up after C closed")
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) == 0 || got[0].ID != "c1" {
				t.Errorf("got %d states, want the current state of c1 first", len(got))
			}
		})
	}
}

// isClosed reports whether s was dropped or closed, without consuming from C.
func isClosed(s *Subscription) bool {
	select {
	case <-s.Dropped():
		return true
	default:
		return false
	}
}
