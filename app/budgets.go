package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/ringout-dialer/ringout/ringcentral"
	"github.com/ringout-dialer/ringout/store"
)

// budgetSaveEvery is how often the users' rate budgets are saved (at once after a 429's
// pause or a Heavy request). A process killed between two saves forgets at most this
// long's Light requests, which the 10 % headroom of the budgets covers.
const budgetSaveEvery = time.Second

// budgetStore keeps the users' rate budgets across restarts: the SQLite store. (In cluster
// mode the budgets live in PostgreSQL as they are spent: store/pg/rate_buckets.go.)
type budgetStore interface {
	RateBudgets(ctx context.Context, now time.Time, window time.Duration) ([]store.RateBudget, error)
	SaveRateBudgets(ctx context.Context, bs []store.RateBudget) error
}

// restoreBudgets puts back the rate budgets saved before the restart: RingCentral's pauses
// still running and the requests of the last minute.
func restoreBudgets(ctx context.Context, bs *ringcentral.Budgets, st budgetStore, log *slog.Logger) {
	saved, err := st.RateBudgets(ctx, time.Now(), time.Minute)
	if err != nil {
		log.Error("reading the saved rate budgets; starting with full ones", "err", err)
		return
	}
	paused := 0
	for _, b := range saved {
		bs.Restore(b.Owner, ringcentral.Group(b.Group), ringcentral.GroupState{PausedUntil: b.PausedUntil, Sent: b.Sent})
		if !b.PausedUntil.IsZero() {
			paused++
		}
	}
	if len(saved) > 0 {
		log.Info("restored rate budgets", "groups", len(saved), "paused", paused)
	}
}

// saveBudgets saves the budgets that changed, every budgetSaveEvery and at once when
// bs.Changed says so, until ctx ends; then once more.
func saveBudgets(ctx context.Context, bs *ringcentral.Budgets, st budgetStore, log *slog.Logger) {
	tick := time.NewTicker(budgetSaveEvery)
	defer tick.Stop()
	save := func() {
		var rows []store.RateBudget
		for user, groups := range bs.Changes() {
			for g, s := range groups {
				rows = append(rows, store.RateBudget{Owner: user, Group: string(g), PausedUntil: s.PausedUntil, Sent: s.Sent})
			}
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := st.SaveRateBudgets(sctx, rows); err != nil {
			log.Error("saving rate budgets", "err", err)
		}
	}
	for {
		select {
		case <-ctx.Done():
			save()
			return
		case <-tick.C:
		case <-bs.Changed:
		}
		save()
	}
}
