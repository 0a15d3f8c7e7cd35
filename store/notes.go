package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

// legacyNotes are the sentences calls.note held before migration 2, each with the kind that
// replaces it. They are every wording the app ever stored (callwatch wrote them; the cancel
// handler's error sentence was shown, never saved). Never edit: they are history.
var legacyNotes = map[string]dialer.NoteKind{
	"Canceling the call…": dialer.NoteCanceling,
	"Both phones were already connected, so RingCentral cannot cancel the call; hang up on your phone to end it.": dialer.NoteBothConnected,
	"You already answered, so RingCentral does not cancel the call; hang up your phone to end it.":                dialer.NoteAnswered,
	"RingCentral stopped reporting this call before it connected, so we cannot tell how it ended.":                dialer.NoteGone,
	"Your RingCentral sign-in expired, so we stopped following this call. Sign in again to place calls.":          dialer.NoteSignedOut,
	"RingCentral asked us to slow down; the status will update shortly.":                                          dialer.NoteSlowDown,
	"RingCentral is not answering right now; still trying.":                                                       dialer.NoteRetrying,
}

// The ceiling's old sentence: "We followed this call for " + time.Duration.String() + this.
const (
	legacyCeilingPrefix = "We followed this call for "
	legacyCeilingSuffix = " without an outcome, so we stopped."
)

// legacyNote is the note kind (and, for the ceiling, the duration) an old note sentence
// stands for. A sentence it does not recognise becomes dialer.NoteNone: no version of the app
// wrote one, a note only ever added to what the call's statuses say (which stay), and an
// English sentence kept as a "kind" would be shown to nobody (views word known kinds only).
func legacyNote(sentence string) (dialer.NoteKind, time.Duration) {
	if k, ok := legacyNotes[sentence]; ok {
		return k, 0
	}
	if mid, ok := strings.CutPrefix(sentence, legacyCeilingPrefix); ok {
		if mid, ok := strings.CutSuffix(mid, legacyCeilingSuffix); ok {
			if d, err := time.ParseDuration(mid); err == nil {
				return dialer.NoteCeiling, d
			}
		}
	}
	return dialer.NoteNone, 0
}

// notesToKinds is migration 2's rewrite of calls.note from sentences to kinds.
func notesToKinds(ctx context.Context, tx *sql.Tx) error {
	type row struct{ id, note string }
	rows, err := tx.QueryContext(ctx, `SELECT id, note FROM calls WHERE note <> ''`)
	if err != nil {
		return fmt.Errorf("read notes: %w", err)
	}
	var old []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.note); err != nil {
			rows.Close()
			return fmt.Errorf("read notes: %w", err)
		}
		old = append(old, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read notes: %w", err)
	}
	for _, r := range old {
		kind, watched := legacyNote(r.note)
		if _, err := tx.ExecContext(ctx, `UPDATE calls SET note = ?, watched = ? WHERE id = ?`,
			string(kind), int64(watched), r.id); err != nil {
			return fmt.Errorf("call %s: %w", r.id, err)
		}
	}
	return nil
}
