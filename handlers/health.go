package handlers

import (
	"context"
	"net/http"
	"time"
)

// ready is GET /readyz: 200 "ready" only while the database takes a write (a tiny upsert)
// and the server is not shutting down; 503 with the reason otherwise. /healthz stays
// liveness only: a process whose disk is full is alive, but should get no new traffic.
func (a *App) ready(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	select {
	case <-a.closing:
		http.Error(w, "not ready: shutting down", http.StatusServiceUnavailable)
		return
	default:
	}
	if err := a.storageReady(r.Context()); err != nil {
		a.Logger.Warn("not ready", "request_id", requestID(r.Context()), "err", err)
		http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ready\n"))
}

// storageReady asks the store to take a write, within a second.
func (a *App) storageReady(ctx context.Context) error {
	d := time.Second
	if a.SaveTimeout > 0 && a.SaveTimeout < d {
		d = a.SaveTimeout
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d)
	defer cancel()
	return a.Store.Ready(ctx)
}

// msgStorageFailing is the dialer's banner while the database does not take writes.
const msgStorageFailing = "The app cannot save calls right now: its storage is full or failing. New calls cannot be placed until it is fixed; calls already ringing go on."
