package handlers

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/views"
)

// BenchmarkCardPerChange is the real per-change path of a call's card to its owner's pages:
// render the card once (views.CallCard), frame it once (the card cache's PreparedMessage)
// and write it to every page's WebSocket, over loopback, until each page has read it.
func BenchmarkCardPerChange(b *testing.B) {
	for _, pages := range []int{1, 10, 40} {
		b.Run(fmt.Sprint("pages=", pages), func(b *testing.B) {
			up := websocket.Upgrader{}
			conns := make(chan *websocket.Conn, pages)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := up.Upgrade(w, r, nil)
				if err != nil {
					b.Error(err)
					return
				}
				conns <- c
			}))
			defer srv.Close()
			var received sync.WaitGroup
			var readers sync.WaitGroup
			for range pages {
				c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				readers.Go(func() {
					for {
						if _, _, err := c.ReadMessage(); err != nil {
							return
						}
						received.Done()
					}
				})
			}
			server := make([]*websocket.Conn, pages)
			for i := range server {
				server[i] = <-conns
				defer server[i].Close()
			}
			cards := newCardCache()
			c := dialer.Call{ID: "Y3MxNjg2MzAwMTIyNDU2Nzg5MEAxMC4xMy4yMi4yNTI", Owner: "101", From: "+16505550101", To: "+16505550123",
				Status: dialer.Status{Call: dialer.CallInProgress, Caller: dialer.LegSuccess, Callee: dialer.LegInProgress}, StartedAt: time.Now()}
			c.History = []dialer.StatusAt{{Status: c.Status, At: c.StartedAt}}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				c.UpdatedAt = c.StartedAt.Add(time.Duration(i+1) * time.Millisecond) // a new state
				now := time.Now()
				received.Add(pages)
				for _, conn := range server {
					msg, err := cards.get(c, now, func() ([]byte, error) {
						var buf bytes.Buffer
						err := views.CallCard(views.NewCallVM(c, "(650) 555-0123", "Mobile", now)).Render(context.Background(), &buf)
						return buf.Bytes(), err
					})
					if err != nil {
						b.Fatal(err)
					}
					if err := conn.WritePreparedMessage(msg); err != nil {
						b.Fatal(err)
					}
				}
				received.Wait()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pages), "ns/page")
			for _, conn := range server {
				conn.Close()
			}
		})
	}
}
