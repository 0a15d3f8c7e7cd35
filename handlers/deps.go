package handlers

import (
	"context"

	"github.com/ringout-dialer/ringout/auth"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// The parts the handlers use, each as the small interface the handlers consume. The app
// wires in *auth.Auth, *store.Store, *callwatch.Watcher and *gateway.Gateway; tests may
// use small fakes where a real part is impractical.

// RingCentral is the RingCentral requests the pages make as the signed-in user
// (*gateway.Gateway). Errors match dialer.ErrSignedOut when the sign-in has ended.
type RingCentral interface {
	CreateRingOut(ctx context.Context, s *auth.Session, r ringcentral.RingOutRequest) (ringcentral.RingOut, error)
	ForwardingNumbers(ctx context.Context, s *auth.Session) ([]ringcentral.ForwardingNumber, error)
}
