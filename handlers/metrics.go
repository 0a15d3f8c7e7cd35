package handlers

import (
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

// pushed records, once a call card has been written to a page, how long ago the poller
// observed that state (c.UpdatedAt): the status push latency. Cards replayed to a page that
// just connected carry states observed before it subscribed and are not pushes, so they are
// left out.
func (a *App) pushed(c dialer.Call, subscribed time.Time) {
	if a.Metrics == nil || !c.UpdatedAt.After(subscribed) {
		return
	}
	a.Metrics.StatusPushed(a.Now().Sub(c.UpdatedAt))
}
