package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// rcOp is a RingCentral request the pages make, as explainRC words its failures: what it
// is (for the log) and what a 403 means, naming the permission it needs (the operation's
// x-app-permission in openapi.yml).
type rcOp struct {
	what      string
	forbidden string
	again     string // what the person may do again once the budget has room
}

var (
	opPlace  = rcOp{"placing a RingOut", msgNoRingOut, "place the next call"}
	opCancel = rcOp{"canceling a RingOut", msgNoRingOut, "cancel"}
	// GET forwarding-number: x-app-permission ReadAccounts (x-user-permission
	// ReadUserForwardingFlipNumbers).
	opListNumbers = rcOp{"listing forwarding numbers",
		"RingCentral did not let us read your forwarding numbers: that needs the Read Accounts permission (ReadAccounts). " +
			"Ask your RingCentral administrator.", "load them"}
	// GET phone-number and caller-id: x-app-permission ReadAccounts.
	opListPhoneNumbers = rcOp{"listing phone numbers", msgNoReadAccounts, "load them"}
	opCallerID         = rcOp{"reading caller id settings", msgNoReadAccounts, "read it"}
	// GET directory/entries: x-app-permission ReadAccounts (Medium group).
	opDirectory = rcOp{"reading the company directory", msgNoReadAccounts, "read it"}
	// GET extension/~: x-app-permission ReadAccounts.
	opExtension = rcOp{"reading extension info",
		"RingCentral did not let us read your extension's settings: that needs the Read Accounts permission (ReadAccounts). " +
			"Ask your RingCentral administrator.", "read them"}
)

const msgNoReadAccounts = "RingCentral did not let us read your account's settings: that needs the Read Accounts permission (ReadAccounts). " +
	"Ask your RingCentral administrator."

const msgNoRingOut = "Your RingCentral user is not allowed to make RingOut calls. Ask your RingCentral administrator for the RingOut permission."

// explainRC turns an error from RingCentral into a sentence for the person, with the
// errorCode for support, and logs the reason (with RingCentral's errorCode and request id)
// for the operator.
func (a *App) explainRC(ctx context.Context, op rcOp, err error) string {
	what := op.what
	if wait := (*ringcentral.WaitError)(nil); errors.As(err, &wait) {
		a.Logger.Warn(what, "request_id", requestID(ctx), "err", err)
		if wait.Paused {
			return fmt.Sprintf("RingCentral asked us to slow down. Try again in %s.", seconds(wait.Wait))
		}
		if wait.Burst <= 0 || wait.Every <= 0 {
			return fmt.Sprintf("You placed or canceled calls quickly. You can %s in %s.", op.again, seconds(wait.Wait))
		}
		// The pace is the dialer's own (inside RingCentral's limit, with room to spare):
		// say that one, not RingCentral's.
		return fmt.Sprintf("You placed or canceled calls quickly: the dialer sends at most %d at once, then one every %s. You can %s in %s.",
			wait.Burst, seconds(wait.Every), op.again, seconds(wait.Wait))
	}
	e, ok := ringcentral.AsError(err)
	if !ok {
		a.logError(ctx, what, "err", err)
		if errors.Is(err, dialer.ErrNotSent) {
			return "We could not renew your RingCentral sign-in just now, so nothing was sent to RingCentral. Try again in a moment."
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return "RingCentral did not answer in time. Try again in a moment."
		}
		return "We could not reach RingCentral. Try again in a moment."
	}
	a.Logger.Warn(what, "request_id", requestID(ctx), "status", e.StatusCode, "error_code", e.ErrorCode,
		"rc_request_id", e.RequestID, "message", e.Message, "parameter", e.ParameterName)
	code := ""
	if e.ErrorCode != "" {
		code = " (" + e.ErrorCode + ")"
	}
	switch {
	case e.StatusCode == http.StatusBadRequest && e.ParameterName != "":
		return fmt.Sprintf("RingCentral did not accept %s. Check the number and try again.%s", paramName(e.ParameterName), code)
	case e.StatusCode == http.StatusBadRequest:
		return "RingCentral did not accept the request: " + e.Message + code
	case e.StatusCode == http.StatusForbidden:
		return op.forbidden + code
	case errors.Is(err, dialer.ErrSignedOut):
		return msgSignedOut
	case e.StatusCode == http.StatusTooManyRequests:
		return fmt.Sprintf("RingCentral asked us to slow down. Try again in %s.%s", seconds(e.RetryAfter()), code)
	case e.StatusCode >= 500 || e.Malformed:
		return fmt.Sprintf("RingCentral is having trouble right now (HTTP %d). Try again in a minute.%s", e.StatusCode, code)
	}
	return fmt.Sprintf("RingCentral refused the request (HTTP %d): %s%s", e.StatusCode, e.Message, code)
}

func paramName(p string) string {
	switch p {
	case "to.phoneNumber", "to":
		return "the number to call"
	case "from.phoneNumber", "from":
		return "the \"ring me at\" number"
	}
	return p
}

func seconds(d time.Duration) string {
	if d < time.Second {
		return "a few seconds"
	}
	n := int(d.Round(time.Second) / time.Second)
	if n == 1 {
		return "1 second"
	}
	return fmt.Sprintf("%d seconds", n)
}

// msgMayHavePlaced follows a failed POST ring-out whose outcome is unknown: it is never
// retried (a retry could ring the user twice), so the person decides, knowing the risk.
const msgMayHavePlaced = "RingCentral may have placed the call all the same: if your phone rings, answer it instead of calling again."

// outcomeUnknown reports whether a request that failed may still have been carried out by
// RingCentral: no answer at all (timeout, dropped connection), a server error, or an
// answer we could not read. A 4xx, 429 included, means RingCentral did nothing, and so does
// a failure before the request was sent (no usable token: dialer.ErrNotSent).
func outcomeUnknown(err error) bool {
	if wait := (*ringcentral.WaitError)(nil); errors.As(err, &wait) {
		return false // never sent
	}
	if errors.Is(err, dialer.ErrNotSent) {
		return false // failed before the request left: e.g. the token refresh failed
	}
	e, ok := ringcentral.AsError(err)
	return !ok || e.StatusCode >= 500 || e.Malformed
}
