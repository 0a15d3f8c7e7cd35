package ringcentral

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"time"
)

// TelephonySessionsFilter is the event filter for the signed-in extension's telephony
// sessions: every change of a call's parties, RingOut calls included (origin "RingOut").
// RingCentral requires the app permission CallControl for it.
const TelephonySessionsFilter = "/restapi/v1.0/account/~/extension/~/telephony/sessions"

// Subscription is RingCentral's SubscriptionInfo, as far as the app reads it.
type Subscription struct {
	ID             string    `json:"id"`
	Status         string    `json:"status"` // Active, Suspended, Blacklisted
	EventFilters   []string  `json:"eventFilters"`
	ExpirationTime time.Time `json:"expirationTime"`
	ExpiresIn      int       `json:"expiresIn"` // seconds left
}

// WebhookRequest asks for a subscription delivered by webhook (transport type WebHook).
type WebhookRequest struct {
	EventFilters []string
	// Address is the app's public HTTPS URL RingCentral POSTs each notification to. Before
	// the subscription is created RingCentral checks it: it must answer a POST with a
	// Validation-Token header within 3 s, 200, echoing the header.
	Address string
	// VerificationToken comes back in every notification's Verification-Token header, so
	// the receiver can tell RingCentral's notifications from anyone else's POSTs.
	VerificationToken string
	ExpiresIn         time.Duration // the subscription's lifetime (RingCentral: 7 days by default)
}

// CreateWebhook creates a webhook subscription (Medium group). RingCentral validates the
// address while the request waits: a receiver that does not answer its Validation-Token
// is a 400 SUB-525.
func (c *Client) CreateWebhook(ctx context.Context, r WebhookRequest) (Subscription, error) {
	type deliveryMode struct {
		TransportType     string `json:"transportType"`
		Address           string `json:"address"`
		VerificationToken string `json:"verificationToken,omitempty"`
	}
	body := struct {
		EventFilters []string     `json:"eventFilters"`
		DeliveryMode deliveryMode `json:"deliveryMode"`
		ExpiresIn    int          `json:"expiresIn,omitempty"`
	}{r.EventFilters, deliveryMode{"WebHook", r.Address, r.VerificationToken}, int(r.ExpiresIn / time.Second)}
	var out Subscription
	err := c.do(ctx, Medium, http.MethodPost, "/restapi/v1.0/subscription", body, &out)
	return out, err
}

// RenewSubscription extends a subscription by its lifetime (Light group).
func (c *Client) RenewSubscription(ctx context.Context, id string) (Subscription, error) {
	var out Subscription
	err := c.do(ctx, Light, http.MethodPost, "/restapi/v1.0/subscription/"+url.PathEscape(id)+"/renew", nil, &out)
	return out, err
}

// DeleteSubscription ends a subscription (Medium group).
func (c *Client) DeleteSubscription(ctx context.Context, id string) error {
	return c.do(ctx, Medium, http.MethodDelete, "/restapi/v1.0/subscription/"+url.PathEscape(id), nil, nil)
}

// TelephonySessionsEvent is one webhook notification of a telephony sessions subscription,
// as far as the app reads it: whose call changed, and the numbers of its parties.
type TelephonySessionsEvent struct {
	UUID           string `json:"uuid"`
	Event          string `json:"event"` // /restapi/v1.0/account/{accountId}/extension/{extensionId}/telephony/sessions
	SubscriptionID string `json:"subscriptionId"`
	OwnerID        string `json:"ownerId"`
	Body           struct {
		TelephonySessionID string `json:"telephonySessionId"`
		Sequence           int64  `json:"sequence"`
		Origin             struct {
			Type string `json:"type"` // RingOut, Call, …
		} `json:"origin"`
		Parties []struct {
			To     partyEnd `json:"to"`
			From   partyEnd `json:"from"`
			Status struct {
				Code string `json:"code"` // Setup, Proceeding, Answered, Disconnected, VoiceMail, …
			} `json:"status"`
		} `json:"parties"`
	} `json:"body"`
}

type partyEnd struct {
	PhoneNumber string `json:"phoneNumber"`
}

// extensionEvent matches an extension-level telephony sessions event; its group is the
// extension id.
var extensionEvent = regexp.MustCompile(`^/restapi/v1\.0/account/[0-9]+/extension/([0-9]+)/telephony/sessions(\?.*)?$`)

// ErrNotTelephonyEvent: a notification that is not an extension's telephony sessions event.
var ErrNotTelephonyEvent = errors.New("ringcentral: not an extension's telephony sessions event")

// ParseTelephonySessionsEvent decodes a webhook notification and returns it with the id of
// the extension whose call changed (the event path's, which must agree with ownerId).
func ParseTelephonySessionsEvent(b []byte) (TelephonySessionsEvent, string, error) {
	var ev TelephonySessionsEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		return ev, "", err
	}
	m := extensionEvent.FindStringSubmatch(ev.Event)
	if m == nil || (ev.OwnerID != "" && ev.OwnerID != m[1]) {
		return ev, "", ErrNotTelephonyEvent
	}
	return ev, m[1], nil
}

// Numbers returns the phone numbers of the event's parties (to and from), each once.
func (ev TelephonySessionsEvent) Numbers() []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range ev.Body.Parties {
		for _, n := range []string{p.To.PhoneNumber, p.From.PhoneNumber} {
			if n != "" && !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// News reports whether the event may announce a change of a RingOut's status: false for
// a session of another origin (a call the user takes on their desk phone: "Call"), and
// when every party is still being set up or rung (Setup, Proceeding), which a RingOut
// reads as InProgress, as it did since the POST. An event with a party in any other state,
// or with no parties, may be news.
func (ev TelephonySessionsEvent) News() bool {
	if o := ev.Body.Origin.Type; o != "" && o != "RingOut" {
		return false
	}
	for _, p := range ev.Body.Parties {
		if p.Status.Code != "Setup" && p.Status.Code != "Proceeding" {
			return true
		}
	}
	return len(ev.Body.Parties) == 0
}
