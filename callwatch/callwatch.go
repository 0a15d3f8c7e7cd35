// Package callwatch follows live RingOut calls and fans their status changes out to the
// pages that show them.
//
// A Watcher runs exactly one poller goroutine per live call, however many pages watch it,
// so ten open tabs cost RingCentral what one does. The pollers of one owner take turns from
// the owner's scheduler (sched.go), which spends the owner's budget of GETs where a change
// is imminent: ringing calls and pending cancels first, connected calls slowly. Every change is pushed to each
// Subscription of the call's owner through a bounded buffer; a subscriber that falls behind
// is dropped, never waited on. The package knows nothing of HTTP: RingCentral (Upstream) and
// the call history (Store) are supplied by the caller, and the WebSocket handler subscribes
// to the Watcher and renders what it receives.
package callwatch

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

// Upstream is RingCentral as the pollers see it. Rate limiting happens below this
// interface: a call blocks until the owner's budget allows it and honours Retry-After.
type Upstream interface {
	GetRingOut(ctx context.Context, owner, id string) (dialer.Status, error)
	DeleteRingOut(ctx context.Context, owner, id string) error
}

// Store keeps calls across restarts.
type Store interface {
	// SaveCall inserts or updates the call (upsert by ID).
	SaveCall(ctx context.Context, c dialer.Call) error
	// LiveCalls returns the calls that are not final yet, to resume after a restart. A row
	// it cannot read must not stop the others: it may come back final, as
	// dialer.NoteUnreadable.
	LiveCalls(ctx context.Context) ([]dialer.Call, error)
}

// ErrClosed is returned by Subscribe and Cancel once the Watcher is closed.
var ErrClosed = errors.New("callwatch: closed")

// Options tune a Watcher. Zero values take the defaults noted on each field.
type Options struct {
	MaxWatch          time.Duration // stop following a call that never connected after this long (10 min); it ends as Lost
	MaxConnectedWatch time.Duration // the same for a call whose two legs connected (12 h): a safety cap, not a limit on talk time
	MinInterval       time.Duration // poll interval while the status changes (1 s)
	MaxInterval       time.Duration // poll interval cap while it does not (3 s)
	ConnectedInterval time.Duration // poll interval cap while both legs are connected and nothing changes (15 s)
	// FirstPoll is how long after a call is placed its first GET goes out (1.5 s): no change
	// can have happened before (a phone rings for a second or two before anyone answers).
	// Negative: at once.
	FirstPoll time.Duration
	// PollRate and PollBurst are the owner's GET budget the scheduler spends (GETs per second
	// steadily, and at most at once): at or below the real budget the Upstream enforces,
	// less what pages need. PollRate 0: no budget, every call polls at its own pace.
	PollRate               float64
	PollBurst              int
	MaxSubscribersPerOwner int           // open pages per user (50); more get dialer.ErrTooManyConnections
	KeepEnded              int           // ended calls per user kept in memory for Calls and Subscribe (20)
	SaveTimeout            time.Duration // bounds one Store write (5 s)
	Now                    func() time.Time
	Logger                 *slog.Logger
	// OnFinal is called once for each call that reaches its final state, from its poller.
	OnFinal func(dialer.Call)
	// Leases, when set, make this Watcher one replica of several (cluster.go): it polls a
	// call only while it holds the call's lease, and Observe shows the others' calls.
	Leases Leases
	// LeaseTTL is how long a lease lasts without renewal (3 s); it is renewed every third.
	LeaseTTL time.Duration
	// Push, when set, says whose call events RingCentral pushes (push.go); their calls are
	// polled when an event says so (Nudge), and every PushedInterval (10 s) besides.
	Push           Push
	PushedInterval time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxWatch <= 0 {
		o.MaxWatch = 10 * time.Minute
	}
	if o.MaxConnectedWatch <= 0 {
		o.MaxConnectedWatch = 12 * time.Hour
	}
	if o.MinInterval <= 0 {
		o.MinInterval = time.Second
	}
	if o.MaxInterval < o.MinInterval {
		o.MaxInterval = max(3*time.Second, o.MinInterval)
	}
	if o.ConnectedInterval < o.MaxInterval {
		o.ConnectedInterval = max(15*time.Second, o.MaxInterval)
	}
	if o.FirstPoll == 0 {
		o.FirstPoll = 1500 * time.Millisecond
	}
	o.FirstPoll = max(0, o.FirstPoll)
	if o.PollRate < 0 {
		o.PollRate = 0
	}
	if o.MaxSubscribersPerOwner <= 0 {
		o.MaxSubscribersPerOwner = 50
	}
	if o.KeepEnded <= 0 {
		o.KeepEnded = 20
	}
	if o.SaveTimeout <= 0 {
		o.SaveTimeout = saveTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 3 * time.Second
	}
	if o.PushedInterval <= 0 {
		o.PushedInterval = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Stats are counters for metrics.
type Stats struct {
	LiveCalls   int    // calls with a running poller
	Subscribers int    // open subscriptions
	Pushes      uint64 // call states queued to subscribers
	Drops       uint64 // subscribers dropped because their buffer was full
}

// Watcher runs the pollers and the hub. Its methods are safe for concurrent use.
type Watcher struct {
	up   Upstream
	st   Store
	opts Options
	log  *slog.Logger

	ctx  context.Context // canceled by Close; pollers run under it
	stop context.CancelFunc
	wg   sync.WaitGroup // pollers

	released chan struct{} // cap 1: another replica released a lease (cluster.go)

	mu     sync.Mutex
	closed bool
	calls  map[string]*entry // by call id
	owners map[string]*owner
	stats  Stats
}

// owner is one user's known calls and open subscriptions.
type owner struct {
	name  string
	calls map[string]*entry
	subs  map[*Subscription]struct{}
	sched *sched // hands out the owner's GETs
}

// entry is one known call. Only its poller changes it, so saves reach the Store in order.
type entry struct {
	call dialer.Call // latest state; guarded by Watcher.mu
	live bool        // a poller is running; guarded by Watcher.mu
	// cancels are the Cancel calls waiting for the poller to send DELETE, each for its
	// answer; guarded by Watcher.mu. Cancel then aborts the GET in flight (abort) and kicks
	// the poller, so a cancel never waits for a poll.
	cancels []chan error
	abort   context.CancelFunc // cancels the GET in flight, if any; guarded by Watcher.mu
	kick    chan struct{}      // cap 1: a cancel is waiting, or a nudge
	// Pushed events (push.go), guarded by Watcher.mu: an event said the call changed; the
	// telephony session that event was of, while the call is bound to none; and the session
	// the call is bound to ("": none yet).
	nudged   bool
	nudgedBy string
	session  string
	done     chan struct{} // closed when the poller has returned
	sched    *sched        // the owner's scheduler

	// Cluster mode (cluster.go), guarded by Watcher.mu.
	epoch  int64     // the lease's epoch while this replica polls the call (0: not claimed)
	trust  time.Time // the poller may send requests until then (local monotonic clock)
	fenced bool      // a save was refused: another replica holds the lease
	remote bool      // another replica polls the call; Observe updates it
	idle   bool      // the last lease round found its lease held here and no poller using it
}

// New returns a Watcher that polls up and saves to st. Call Resume to pick up the calls
// that were live before a restart, and Close at shutdown.
func New(up Upstream, st Store, opts Options) *Watcher {
	opts = opts.withDefaults()
	ctx, stop := context.WithCancel(context.Background())
	w := &Watcher{
		up:     up,
		st:     st,
		opts:   opts,
		log:    opts.Logger.With("component", "callwatch"),
		ctx:    ctx,
		stop:   stop,
		calls:  make(map[string]*entry),
		owners: make(map[string]*owner),

		released: make(chan struct{}, 1),
	}
	if opts.Leases != nil {
		w.st = fencedStore{w: w, Store: st}
		w.wg.Add(1)
		go w.leaseLoop()
	}
	return w
}

// Watch starts following a newly placed call. It is idempotent: a call already known is
// left as it is. The call's owners' pages receive it at once.
func (w *Watcher) Watch(c dialer.Call) { w.watch(c, false) }

// watch is Watch; resumed says the call was live before a restart, when the owner's budget
// was being spent already: its scheduler then starts with an empty bucket, so resumed
// pollers are staggered at the budget's steady pace.
func (w *Watcher) watch(c dialer.Call, resumed bool) {
	if c.ID == "" || c.Owner == "" {
		w.log.Warn("ignoring call without id or owner", "call_id", c.ID)
		return
	}
	now := w.opts.Now()
	if c.StartedAt.IsZero() {
		c.StartedAt = now
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = now
	}
	c.History = slices.Clone(c.History)
	if len(c.History) == 0 && c.Status != (dialer.Status{}) {
		c.History = []dialer.StatusAt{{Status: c.Status, At: c.UpdatedAt}}
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if e, ok := w.calls[c.ID]; ok {
		if e.call.Owner != c.Owner {
			w.log.Warn("call id already watched for another owner", "call_id", c.ID)
			return
		}
		if !(e.remote && !e.live && !e.call.Status.Final()) {
			return
		}
		// Cluster mode: known from another replica's NOTIFY; try to poll it here.
	}
	w.startLocked(c, resumed)
}

// startLocked makes c a known call, shows it to its owner's pages and, unless it is
// final, starts its poller (resumed: as watch says). It returns the new entry.
func (w *Watcher) startLocked(c dialer.Call, resumed bool) *entry {
	o := w.ownerLocked(c.Owner)
	if o.sched == nil {
		o.sched = newSched(w, !resumed)
	}
	e := &entry{call: snapshot(c), kick: make(chan struct{}, 1), done: make(chan struct{}), sched: o.sched}
	w.calls[c.ID] = e
	o.calls[c.ID] = e
	first := e.call
	w.publishLocked(o, &first)
	if c.Status.Final() {
		close(e.done)
		w.pruneLocked(o)
		return e
	}
	e.live = true
	w.stats.LiveCalls++
	w.wg.Add(1)
	go w.run(e, c, resumed)
	return e
}

// Resume restarts the pollers of the calls the Store still has as live. A call the Store
// returns final (a row it could not read, marked dialer.NoteUnreadable) is logged and shown
// as it is, without a poller.
func (w *Watcher) Resume(ctx context.Context) error {
	calls, err := w.st.LiveCalls(ctx)
	if err != nil {
		return err
	}
	for _, c := range calls {
		if c.Note == dialer.NoteUnreadable && c.Status.Final() {
			// The Store could not read this row; it marked it and resumes the others.
			w.log.Error("a live call's stored row is unreadable; it is marked lost and not followed",
				"call_id", c.ID, "owner", c.Owner)
		}
		w.watch(c, true)
	}
	w.log.Info("resumed live calls", "calls", len(calls))
	return nil
}

// Cancel asks RingCentral to cancel owner's call id. The DELETE runs on the call's poller, so
// it never overlaps a GET of the same call: a GET in flight (or waiting for the budget) is
// abandoned at once for it, and the poll that follows decides what the page says. A call that has already ended is left as it is (nil). It returns
// dialer.ErrNotYourCall when the call belongs to someone else and dialer.ErrCallGone when it
// is not known.
func (w *Watcher) Cancel(ctx context.Context, owner, id string) error {
	w.mu.Lock()
	e, ok := w.calls[id]
	closed := w.closed
	var callOwner string
	var remote bool
	if ok {
		callOwner, remote = e.call.Owner, e.remote && !e.live && !e.call.Status.Final()
	}
	w.mu.Unlock()
	switch {
	case !ok:
		return dialer.ErrCallGone
	case callOwner != owner:
		return dialer.ErrNotYourCall
	case closed:
		return ErrClosed
	case remote:
		// Another replica polls the call: it sends the DELETE, and the page sees the result.
		return w.opts.Leases.AskCancel(ctx, owner, id)
	}
	reply := make(chan error, 1)
	w.mu.Lock()
	e.cancels = append(e.cancels, reply)
	if e.abort != nil {
		e.abort() // the cancel comes first: the poll in flight is abandoned
	}
	w.mu.Unlock()
	select {
	case e.kick <- struct{}{}:
	default:
	}
	select {
	case err := <-reply:
		return err
	case <-e.done:
		select {
		case err := <-reply:
			return err
		default:
		}
		if w.ctx.Err() != nil {
			return ErrClosed
		}
		return nil // the call ended meanwhile
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Call returns the current state of owner's call id.
func (w *Watcher) Call(owner, id string) (dialer.Call, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e, ok := w.calls[id]
	if !ok || e.call.Owner != owner {
		return dialer.Call{}, false
	}
	return e.call, true
}

// Calls returns owner's calls known in memory (live and recently ended), newest first.
func (w *Watcher) Calls(owner string) []dialer.Call {
	w.mu.Lock()
	defer w.mu.Unlock()
	calls := w.callsLocked(owner)
	slices.Reverse(calls)
	return calls
}

// Stats returns the current counters.
func (w *Watcher) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// Close stops all pollers and closes all subscriptions (their C closes; Dropped does not).
// Live calls stay live in the Store, so Resume picks them up after a restart.
func (w *Watcher) Close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		for _, o := range w.owners {
			for s := range o.subs {
				w.unsubscribeLocked(o, s)
			}
		}
	}
	w.mu.Unlock()
	w.stop()
	w.wg.Wait()
	w.releaseLeases()
}

// callsLocked returns owner's known calls, oldest first.
func (w *Watcher) callsLocked(owner string) []dialer.Call {
	o := w.owners[owner]
	if o == nil {
		return nil
	}
	calls := make([]dialer.Call, 0, len(o.calls))
	for _, e := range o.calls {
		calls = append(calls, e.call)
	}
	slices.SortFunc(calls, func(a, b dialer.Call) int {
		return cmp.Or(a.StartedAt.Compare(b.StartedAt), cmp.Compare(a.ID, b.ID))
	})
	return calls
}

func (w *Watcher) ownerLocked(name string) *owner {
	o := w.owners[name]
	if o == nil {
		o = &owner{name: name, calls: make(map[string]*entry), subs: make(map[*Subscription]struct{})}
		w.owners[name] = o
	}
	return o
}

// pruneLocked forgets o's oldest ended calls beyond KeepEnded, and o itself once it has
// neither calls nor subscribers.
func (w *Watcher) pruneLocked(o *owner) {
	var ended []*entry
	for _, e := range o.calls {
		if !e.live && !(e.remote && !e.call.Status.Final()) {
			ended = append(ended, e)
		}
	}
	if n := len(ended) - w.opts.KeepEnded; n > 0 {
		slices.SortFunc(ended, func(a, b *entry) int { return a.call.StartedAt.Compare(b.call.StartedAt) })
		for _, e := range ended[:n] {
			delete(o.calls, e.call.ID)
			delete(w.calls, e.call.ID)
		}
	}
	w.forgetIfEmptyLocked(o)
}

func (w *Watcher) forgetIfEmptyLocked(o *owner) {
	if len(o.calls) == 0 && len(o.subs) == 0 {
		delete(w.owners, o.name)
	}
}

// snapshot returns c with its History clipped, so a receiver that appends to it cannot
// write into the poller's array.
func snapshot(c dialer.Call) dialer.Call {
	c.History = slices.Clip(c.History)
	return c
}
