// Package rcsim is a RingCentral simulator: an http.Handler that speaks the subset of the
// RingCentral REST API the dialer uses (ringcentral/openapi.yml) with the same JSON
// shapes, status codes, error bodies and headers, so that the RingOut guide's SDK code works
// against it unchanged. It stands in for RingCentral in every test and in the demo
// (`go run .` mounts it at /sim), in the manner of google-cloud-go's pstest: New or
// NewServer, a replaceable Clock, and the divergences from the real service written down here.
//
// # The demo account
//
// Account 37439510, main number +16505550100, home country US (id "1", callingCode "1"),
// international calling off: extension info's serviceFeatures say {"featureName":
// "InternationalCalling", "enabled": false, "reason": "AccountLimitation"}, as the platform's
// recorded answer does. App: client id DemoClientID, secret DemoClientSecret. Users
// (username/password, extension number, extension id):
//
//	demo/demo      101  1640191004  4 forwarding numbers (Mobile, Home, Work, Other +44…)
//	demo2/demo2    102  1640192004  3 forwarding numbers (Mobile, Work, Home +33…)
//	noperm/noperm  103  1640193004  2 forwarding numbers; no RingOut permission
//
// Their direct numbers are +16505550101 … +16505550103 (each user's caller id setting for
// RingOut; phone-number also lists the main number, both with the CallerId feature).
//
// The company directory (GET account/~/directory/entries, Medium group) lists those three
// and the account's other extensions, which nobody signs in as (Sim.Colleagues), each with
// a department, an email and one direct number (VoiceFax, DirectNumber), by extension number:
//
//	104 Priya Natarajan   Engineering  +16505550230    110 Hannah Cohen   People      +16505550241
//	105 Marcus Webb       Sales        +16505550231    111 Oliver Grant   Sales       +16505550242
//	106 Sofia Alvarez     Support      +16505550232    112 Mei Lin        Support     +16505550243
//	107 Kenji Watanabe    Engineering  +16505550233    113 Rafael Costa   Engineering +16505550244
//	108 Amara Okafor      Finance      +16505550234    114 Chloe Martin   Legal       +16505550235 (busy)
//	109 Lukas Becker      Marketing    +16505550240    115 Tom Okoro      Facilities  +16505550247 (declines)
//	200 Support line (type Department, a call queue: name, no first or last name)  +16505550250
//
// A call to a colleague's direct number plays the scenario of its last digit like any
// number. The directory is paged as the platform pages it: page (from 1) and perPage
// (default 1000, at most 2000, or "all"/"max"; otherwise 400 CMN-101), an answer of
// records and paging (page, perPage, totalPages, totalElements, pageStart, pageEnd; no
// navigation links, as the spec shows it); with showFederated=false each record's account
// section is left out. Load users (-sim-users) are in it too.
//
// Those forwarding numbers have the CallFlip feature (RingOut can ring them first). Each
// user's list also has an Outage record with CallForwarding only, and demo's a PhoneLine
// record (a desk phone: a device, no phoneNumber), which RingCentral's apps do not offer
// for RingOut; from.forwardingNumberId naming one is 400 CMN-101.
//
// # Ring-out scenarios
//
// POST ring-out answers callStatus, callerStatus and calleeStatus InProgress. The call then
// follows the script of a Scenario, picked by the last digit of `to` (ScenarioFor), in
// simulated time: t = 0 at POST; A is when the caller answers, 2 s, or 4 s with playPrompt.
// The table is Scenarios(), in this order (TestDocListsScenarios keeps this list equal to it):
//
//   - Answered (+16505550120): last digit 0–4: caller Success at A; callee Success at A+3 s
//     (callStatus Success); both Finished at A+13 s (callStatus stays Success).
//   - Busy (+16505550125): last digit 5: caller Success at A; callee Busy at A+1 s
//     (CannotReach).
//   - NoAnswer (+16505550126): last digit 6: caller Success at A; callee NoAnswer at A+20 s
//     (CannotReach).
//   - Rejected (+16505550127): last digit 7: caller Success at A; callee Rejected at A+3 s
//     (CannotReach).
//   - CallerNoAnswer (+16505550128): last digit 8, in any country: callerStatus NoAnswer at
//     20 s, the callee never rung (stays InProgress) (CannotReach).
//   - LongRing (+16505550129): last digit 9: caller Success at A; the callee rings, NoAnswer
//     at A+60 s (CannotReach).
//   - BusyLate (+16505550145): +16505550145 only (its last digit's fate, reported late): caller
//     Success at A; callee Busy at A+1 s while callStatus still reads InProgress; CannotReach
//     10 s later.
//   - International (+442071838750): a number outside the home country (not +1 and 10
//     digits), whatever its last digit but 8: caller Success at A; callee
//     InternationalDisabled at A (CannotReach).
//
// callStatus is derived from the legs, as the guide says: Success once both legs answered
// (and still after both are Finished), InProgress while neither leg failed and the callee is
// InProgress, CannotReach otherwise.
//
// Statuses are computed from the simulated clock on every read; they never move with the
// number of requests. A call whose status is final stays readable for the retention time
// (Options.Retention, -sim-retention, default 30 s), then GET and DELETE answer 404 CMN-102.
// The guide says both "you can cancel a RingOut call while the callee's party status is
// InProgress" and "if the first leg of the call has been initiated, then the DELETE API will
// not terminate the call"; Options.Cancel (-sim-cancel) picks the reading. By default,
// until-caller-answers (the stricter one, which community answers confirm), DELETE ends the
// call (later GET: 404 CMN-102) only while the caller's phone rings; with until-connected,
// until both legs are connected. Afterwards DELETE answers 204 and the call goes on.
// Sim.Act lets a presenter drive each leg by hand (ActAnswer, ActDecline, ActBusy, ActNoReply,
// ActHangUp).
//
// A 429 fault (POST /_admin/faults) without retryAfter is answered without Retry-After, as
// RingCentral does "in some cases". With PenaltyRestart a 429 fault on an API request begins
// the penalty of that request's group for the user its token names; the penalty's 429s
// carry Retry-After (the penalty, in real seconds) unless the fault that began it had none.
//
// # Push notifications
//
// The Subscription API delivers telephony session events of the user's RingOut calls by
// WebHook, which the app uses as a hint to poll. Routes (token-authenticated, scoped to the
// token's user, rate-limited in the spec's groups, in the request log):
//
//	POST   /restapi/v1.0/subscription                     Medium  createSubscription
//	GET    /restapi/v1.0/subscription                     Light   {"uri", "records": [SubscriptionInfo…]}, the user's only
//	GET    /restapi/v1.0/subscription/{subscriptionId}    Light
//	PUT    /restapi/v1.0/subscription/{subscriptionId}    Medium  new eventFilters and/or expiresIn (from now)
//	DELETE /restapi/v1.0/subscription/{subscriptionId}    Medium  204
//	POST   /restapi/v1.0/subscription/{subscriptionId}/renew  Light  the last expiresIn asked for starts again
//
// Create: deliveryMode.transportType must be "WebHook" (anything else, PubNub included: 400
// CMN-101 naming deliveryMode.transportType) and address an absolute http or https URL (400
// CMN-101 deliveryMode.address). The only event filter is
// /restapi/v1.0/account/~/extension/~/telephony/sessions, "~" or the user's real account and
// extension ids; the answer's eventFilters show the real ids. Another account is 403 SUB-406
// "Not allowed subscribe for events to extensions of other account"; another extension of the
// account 403 CMN-408 (as for a path naming it); any other filter 400 CMN-101 eventFilters.
// Telephony session events need the app permission CallControl: the demo app's tokens carry
// it (scope "CallControl ReadAccounts RingOut"); with Options.NoCallControl they do not, and
// create (and PUT with eventFilters) is 403 CMN-401 "In order to call this API endpoint,
// application needs to have [CallControl] permission". expiresIn defaults to 604800, must be
// 1…630720000 (else 400 CMN-101 expiresIn). The answer: id (a UUID), uri, eventFilters,
// creationTime and expirationTime (RFC 3339, ms, Z), expiresIn (seconds left), status
// "Active", deliveryMode {transportType "WebHook", encryption false, address}; the
// verificationToken is not echoed (RingCentral's answers never show it). Unknown, deleted,
// expired or another user's subscription ids are 404 CMN-102 subscriptionId; an expired
// subscription is forgotten (not listed, not renewable).
//
// Validation: before answering, the simulator POSTs to the address, for real, with an empty
// body, a random Validation-Token header and User-Agent RingCentral-Webhook/8.3, through
// Options.WebhookClient (nil: an http.Client with a 3 s timeout; the timeout is real time).
// The receiver must answer 200 with the same Validation-Token, status line, headers and body
// at most 1024 bytes, within 3000 ms. Failures, with the codes of the spec's x-error-codes:
// no answer (refused, timeout, bad URL) 400 SUB-521 "WebHook is not reachable"; a status other
// than 200 or an answer over 1024 bytes 400 SUB-525 "WebHook server response is invalid"; a
// missing or different Validation-Token 400 SUB-520 "Validation Token is not returned".
//
// Delivery: each time what GET ring-out would answer for a live call of a subscribed
// extension changes (callStatus, callerStatus, calleeStatus), at POST ring-out, at a cancel
// (DELETE while Options.Cancel allows) and at Sim.Act (the phones page), one notification is
// POSTed to each of that extension's live subscriptions, with Content-Type
// "application/json; charset=UTF-8", User-Agent RingCentral-Webhook/8.3 and Verification-Token
// (the subscription's deliveryMode.verificationToken, when one was given), body
//
//	{"uuid", "event": "/restapi/v1.0/account/37439510/extension/<ext>/telephony/sessions",
//	 "timestamp", "subscriptionId", "ownerId": "<ext>", "body": {"sequence" (1, 2, … per call),
//	 "sessionId" (11 digits), "telephonySessionId" ("s-a…", fixed per call), "serverId",
//	 "eventTime", "origin": {"type": "RingOut"}, "parties": [caller, callee]}}
//
// The caller party is the leg that rings the user's own phone (the RingOut's from): id
// "p-…-1", direction Inbound, from the number called, to the user's phone (with the user's
// name and extensionId). The callee party is the leg to the RingOut's to: id "p-…-2",
// direction Outbound, from the caller id shown (callerId), to the number called. Both carry
// accountId and the user's extensionId, missedCall, standAlone and muted (false, but the
// caller's missedCall when it went unanswered). Party status codes (the spec's
// CallStatusInfo codes and reasons), from each leg's RingOut status:
//
//	InProgress  Proceeding (the callee: Setup until the caller answered, it is not dialed yet)
//	Success     Answered
//	Finished    Disconnected, reason CallFinished
//	Busy        Disconnected TargetBusy      NoAnswer    Disconnected NoAnswer
//	Rejected    Disconnected Rejected        InternationalDisabled  Disconnected InternationalDisabled
//	(others)    Disconnected DestinationBlocked, NotEnoughFunds, NoSuchUser, InvalidNumber or InternalError
//
// Once the call is over (callStatus final), a party still Answered is Disconnected
// CallFinished and one still Setup or Proceeding Disconnected Cancelled; a canceled call's
// last event has both parties Disconnected (Cancelled unless already disconnected). So an
// Answered-scenario call sends four events: Proceeding/Setup (POST), Answered/Proceeding (A),
// Answered/Answered (A+3 s), Disconnected/Disconnected (A+13 s).
//
// Changes are found by one scanner goroutine, started by the first subscription, that every
// 50 ms of real time (a time.Ticker) compares each subscribed extension's calls' statuses with
// the last ones sent (no allocation for an unchanged call); it stops when no subscription is
// left, or at Sim.Close (Server.Close calls it). Each subscription has a queue of 256
// notifications and one sender goroutine; a full queue drops the notification (counted,
// Sim.WebhooksDropped, logged). Each POST has a 3 s timeout; a failure or non-2xx answer is
// logged, not retried. Expired and deleted subscriptions get nothing more (queued ones are
// dropped).
//
// Switches: GET /_admin/webhooks lists the deliveries (Sim.Webhooks): time, subscriptionId,
// address, callId (the ring-out id), sequence, callStatus/callerStatus/calleeStatus as GET
// answered, callerCode/calleeCode sent, httpStatus answered (0 when none) and error ("paused",
// "queue full", "timeout" or the transport error). POST /_admin/webhooks/pause drops every
// delivery (logged with error "paused") until DELETE /_admin/webhooks/pause (Sim.PauseWebhooks),
// to test the app's polling fallback.
//
// # Time
//
// Everything runs on simulated time: Options.Clock (nil: real time) sped up by
// Options.Speed. Call timings, token lifetimes, the 60 s authorization-code life and rate
// windows all shrink by Speed; Retry-After, expires_in and refresh_token_expires_in are
// given in real (clock) seconds, so a client's idea of when its token expires holds.
//
// # Sessions
//
// Each sign-in (authorization code, password or JWT grant) starts a session of its user,
// with an access token (1 h) and, unless Options.NoRefreshTokens, a refresh token (7 days).
// A refresh rotates the pair within the session: the old access and refresh tokens stop
// working at once (a request still on its way with the old access token gets 401 OAU-129).
// Without refresh tokens the session ends when its access token expires. Revoking either
// token ends the whole session. A user holds at most Options.SessionCap live sessions
// (default 5, as the platform's "usually five" per user and app): a sign-in beyond it ends
// the oldest, whose access token then gets 401 OAU-129 and whose refresh token
// invalid_grant. Sim.Sessions counts a user's live sessions.
//
// # Switches
//
// The app's `go run .` (demo mode) and `go run . sim` set Options with these flags; the
// defaults follow the platform, for an app whose "Issue refresh tokens" setting is on:
//
//	-sim-speed F                      1       Speed
//	-sim-refresh-tokens=true|false    true    NoRefreshTokens = !value (RingCentral's own default for a new app is off)
//	-sim-access-ttl D                 1h      AccessTokenTTL (simulated time, at least 1s)
//	-sim-session-cap N                5       SessionCap (0: no limit, i.e. SessionCap < 0)
//	-sim-retention D                  30s     Retention: how long a finished call stays readable
//	-sim-cancel MODE                  until-caller-answers   Cancel (or until-connected)
//	-sim-penalty-restart              off     PenaltyRestart: a 429 begins a 60 s penalty for the
//	                                          user's group; every request during it is answered
//	                                          429 and restarts it
//	-sim-ids base64|digits            base64  IDs: ring-out ids as strings like the platform's,
//	                                          or JSON numbers (234343434) like the RingOut guide
//	-sim-users N                      0       ExtraUsers (demo mode and `ringout sim`)
//
// Options without a flag: Clock, RefreshTokenTTL (7 days), RateLimits, Logger, WebhookClient,
// NoCallControl.
//
// # Mounting
//
// Links in responses (uri fields, paging, redirects) are absolute URLs built from the request:
// scheme (TLS, or X-Forwarded-Proto), host (Host, or X-Forwarded-Host) and the mount prefix,
// taken from X-Forwarded-Prefix or else from the difference between r.RequestURI and
// r.URL.Path that http.StripPrefix leaves. Admin endpoints are served at /_admin/ of the
// handler only (/sim/_admin/… when mounted): POST /_admin/faults (a Fault as JSON),
// DELETE /_admin/faults, GET /_admin/requests (each API request: time, method, path,
// extension, status, group and agent, the X-User-Agent it carried), GET /_admin/webhooks (the
// webhook deliveries) and POST/DELETE /_admin/webhooks/pause (see Push notifications). The presenter's page of virtual phones is at
// /phones (/sim/phones when mounted): each live call's two legs, ringing in real time, with
// Answer, Decline, Busy and Hang up buttons (Sim.Act). Neither is in the request log.
//
// # Divergences from RingCentral
//
//   - Only the operations of openapi.yml exist; any other path is 404 CMN-102 in RingCentral's
//     error shape, a wrong method 405 CMN-103. Query parameters other than page/perPage (and
//     the directory's showFederated) are ignored: the directory's type, siteId and
//     If-None-Match are not applied.
//   - The directory's order (by extension number) and its records' subset of fields (no
//     site, profileImage or formattedPhoneNumber) are ours; no response was recorded.
//   - Any absolute http(s) redirect_uri is accepted (RingCentral requires a registered one).
//     code_challenge_method must be S256 when a challenge is sent ("plain" is refused).
//     The sign-in page takes a username (not the main number), and has no consent step.
//   - Tokens are opaque random strings, not RingCentral's format. scope is
//     "CallControl ReadAccounts RingOut" ("CallControl ReadAccounts" for noperm; without
//     CallControl under Options.NoCallControl); requested scopes and
//     access_token_ttl/refresh_token_ttl are ignored. A refresh returns a new pair and
//     invalidates the old access and refresh tokens at once. (The platform invalidates the
//     old access token at once too, but keeps the old refresh token usable for about 10 s
//     after the new access token is first used, or up to 60 min if it never is, answering
//     the same new pair again; the error code for the old access token "may vary": an
//     experiment saw "Access token corrupted", later "Token not found". Here it is always
//     OAU-129 "Access token corrupted", the same shape as any 401.)
//   - Without refresh tokens the answer simply lacks refresh_token and
//     refresh_token_expires_in (the spec marks them optional, "if issued"); the platform's
//     exact answer for such an app is not recorded.
//   - The session cap counts per user only (there is one app); the platform's limit is
//     "usually five" and its choice of the session it ends is not documented: here the
//     oldest sign-in goes, whatever was used last. The error for its tokens is OAU-129 (the
//     guide only says 401).
//   - Password grant: username is the username (case-insensitive, extension optional) or the
//     main number (+16505550100 or 16505550100) with the extension number.
//   - JWT bearer grant: any well-formed JWT whose payload's sub names a user (extension id,
//     username or extension number) is accepted; the signature and expiry are not checked.
//   - OAuth errors are {"error", "error_description", "errors":[{errorCode, message}]}; the
//     OAU codes are our best match, not verified against production. A wrong or missing
//     client is 401 invalid_client OAU-123. Revoking an unknown token answers 200 (RFC 7009).
//   - API 401s: no Authorization header: AGW-401 "Authorization header is not specified";
//     unknown, malformed or revoked token: OAU-129 "Access token corrupted"; expired token:
//     errorCode "TokenExpired", "Access token expired".
//   - Another extension of the demo account in the path is 403 CMN-408 (as for a non-admin
//     user); an unknown extension or account is 404 CMN-102.
//   - The noperm user's ring-out is 403 CMN-401 (the app-permission code) on POST only; GET
//     and DELETE of its (nonexistent) calls are 404.
//   - Numbers: E.164, digits with country code (13445554444) or 10 US digits are accepted;
//     spaces, dashes, dots and parentheses are ignored. No numbering-plan check. The home
//     country is "+1 and 10 digits" (all of NANP, Canada included). Only the destination is
//     checked against international calling; a non-US "from" rings normally. callerId and
//     country are validated loosely; country is otherwise ignored. callerId is applied: it must
//     be one of the user's numbers with the CallerId feature (the direct number or the main
//     number, as phone-number lists them), else 400 CMN-101 naming callerId.phoneNumber (our
//     assumption: the platform's answer to someone else's number is not recorded); without
//     it the call shows the extension's caller id setting for RingOut (the direct number).
//     Sim.Calls has it as CallView.CallerID, and the callee's phone on /phones shows it. A forwardingNumberId that is not the
//     user's is 400 CMN-101 naming from.forwardingNumberId.
//   - Ring-out ids are, by default, unpadded base64url of "cs" + 19 random digits +
//     "@10.13.22.252", the form of the recorded platform id "Y3MxNjg2MzAwMTIyMTAwMTM1OTM5QDEwLjEzLjIyLjI1Mg"
//     (what the digits mean is not documented). With -sim-ids digits they are 12 random
//     digits sent as a JSON number, as the guide's sample shows (234343434), which breaks
//     openapi.yml (id: string). uri uses the real account and extension ids and the
//     "ring-out" spelling whatever spelling the request used.
//   - The spec marks from required; here it may be omitted (the first forwarding number rings).
//   - A call's fate comes from the last digit of to (Scenarios), and its timings are fixed; the
//     real platform's depend on the phones, ring settings and carriers. Voicemail does not
//     exist: a real caller leg answered by voicemail reports Success, here it never does.
//   - POST answers all three statuses InProgress (the guide's sample shows Success for all
//     three; the recorded GET shows callerStatus Success with the callee InProgress).
//   - Statuses the simulator never produces: GenericError, DestinationBlocked,
//     NotEnoughFunds, NosuchUser, RingOutFromThisNumberIsNotSupported, NoAnsweringMachine,
//     Invalid, Error, Unknown, and NoSessionFound: a call no longer known (canceled, or
//     final for the retention time) is 404 CMN-102 rather than a status; how long the
//     platform keeps a finished call readable is not documented.
//   - That callStatus may lag a failed leg (BusyLate) is our assumption, to test clients; the
//     guide does not say whether it can.
//   - Without PenaltyRestart the window slides and a 429 ends when the oldest counted request
//     leaves it; the platform's documented penalty interval (60 s, restarted by requests made
//     during it) is modelled only with the switch.
//   - InternationalDisabled comes only from a destination outside the home country, after the
//     caller answered (the guide also uses it for domestic and internal calling disabled, and
//     does not say when it appears). That a caller who never answers (last digit 8) wins over
//     it is our rule.
//   - playPrompt only delays the caller's Success by 2 s; the "press 1" step cannot fail or be
//     skipped.
//   - callStatus is our reading of the guide's "combination of both call legs statuses" (see
//     above); the guide gives no table.
//   - Hanging up the caller (Sim.Act) while the callee rings makes the callee Rejected, as the
//     guide says; the other manual actions are ours.
//   - Rate limits: a sliding 60 s window per (group, key), groups from x-throttling-group
//     (Heavy 10, Medium 40, Light 50, Auth 5). API requests are keyed by extension. Auth
//     (token and revoke only; the sign-in page is not throttled) is keyed by the user the grant
//     or token names, or by the client id when none is known. Rejected requests do not count.
//     Retry-After is when the oldest counted request leaves the window. Throttling happens
//     after authentication, so 401s carry no X-Rate-Limit headers.
//   - Faults (POST /_admin/faults) are ours: matching responses carry X-Rcsim-Fault: true.
//     A fault delay is real time, not simulated.
//   - Extension info, phone numbers and caller id carry a plausible subset of the fields
//     (ringcentral's TestSimulatorShapes compares them with the recorded answers).
//     serviceFeatures lists 8 features about calls, the recorded answer 49.
//     Paging always fits one page unless perPage is smaller.
//   - Push notifications: only the WebHook transport (PubNub, WebSocket, RC/APNS, RC/GCM are
//     400 CMN-101) and only the extension's telephony/sessions filter (the account-level one
//     and every other event type are 400 CMN-101). http addresses are accepted for local use
//     (RingCentral requires https in production: SUB-523 "HTTPS is required"). The
//     WebhookSubscriptions app permission, the per-user subscription limit (SUB-505) and
//     encryption are not modelled. That another extension's filter is 403 CMN-408 is our
//     choice (the spec lists SUB-406 for another account only). PUT may omit eventFilters
//     (the spec marks it required). expiresIn is counted in the client's clock seconds (like
//     expires_in); creationTime and expirationTime are simulated times.
//   - Webhook deliveries are not retried, and a receiver that keeps failing is never
//     suspended or blacklisted (status stays Active); RingCentral retries and eventually
//     blacklists the subscription. Notifications are at most 50 ms late (the scan); a change
//     that is undone within one scan is not seen. The parties' numbers and directions, the
//     Setup status of the callee before it is dialed and the disconnect reasons are our
//     reading of the spec's CallStatusInfo: no RingOut session event was recorded. A real
//     RingOut session may report more steps (e.g. Setup before Proceeding, a callee party
//     that appears only once dialed, Gone); here only changes of the RingOut statuses count.
package rcsim
