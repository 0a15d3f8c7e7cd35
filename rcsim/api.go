package rcsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// apiHandler handles an authenticated REST request for the extension in its path.
type apiHandler func(w http.ResponseWriter, r *http.Request, u *User)

// api wraps a REST handler: bearer token, then the rate limit of the operation's
// x-throttling-group for the token's extension, then the account and extension in the path.
func (s *Sim) api(group string, h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u := s.bearer(w, r)
		if u == nil {
			return
		}
		note(r, u.ID, group)
		if !s.allow(w, r, group, "user:"+u.ID) {
			return
		}
		if a := r.PathValue("accountId"); a != "~" && a != AccountID && a != "" { // "": not an account path
			writeNotFound(w, "accountId")
			return
		}
		switch e := r.PathValue("extensionId"); {
		case e == "~" || e == u.ID || e == "": // "": an account-level (or subscription) path
		case s.dir.byID(e) != nil:
			writeError(w, http.StatusForbidden, "CMN-408",
				"In order to call this API endpoint, user needs to have [ReadExtensions] permission for requested resource.")
			return
		default:
			writeNotFound(w, "extensionId")
			return
		}
		h(w, r, u)
	}
}

func accountURI(base string) string { return base + "/restapi/v1.0/account/" + AccountID }

func extensionURI(base string, u *User) string {
	return accountURI(base) + "/extension/" + u.ID
}

type countryInfo struct {
	ID          string `json:"id"`
	URI         string `json:"uri"`
	Name        string `json:"name"`
	IsoCode     string `json:"isoCode"`
	CallingCode string `json:"callingCode"`
}

func homeCountry(base string) countryInfo {
	return countryInfo{ID: "1", URI: base + "/restapi/v1.0/dictionary/country/1", Name: "United States", IsoCode: "US", CallingCode: "1"}
}

// extensionInfo is GET extension/{extensionId}.
func (s *Sim) extensionInfo(w http.ResponseWriter, r *http.Request, u *User) {
	base := baseURL(r)
	id, _ := strconv.ParseInt(u.ID, 10, 64)
	features := serviceFeatures(u)
	writeJSON(w, http.StatusOK, map[string]any{
		"id":              id,
		"uri":             extensionURI(base, u),
		"extensionNumber": u.Number,
		"name":            u.Name(),
		"type":            "User",
		"status":          "Enabled",
		"account":         map[string]any{"id": AccountID, "uri": accountURI(base)},
		"contact": map[string]any{"firstName": u.FirstName, "lastName": u.LastName, "name": u.Name(),
			"email": u.Email, "businessPhone": u.DirectPhone, "company": "Demo Company"},
		"permissions": map[string]any{"admin": map[string]any{"enabled": false}, "internationalCalling": map[string]any{"enabled": false}},
		"regionalSettings": map[string]any{
			"homeCountry": homeCountry(base),
			"timezone":    map[string]any{"id": "58", "name": "US/Pacific", "description": "Pacific Time (US & Canada)", "bias": "-480"},
			"language":    map[string]any{"id": "1033", "localeCode": "en-US", "name": "English (United States)"},
			"timeFormat":  "12h",
		},
		"serviceFeatures":  features,
		"setupWizardState": "Completed",
		"hidden":           false,
	})
}

// serviceFeatures is extension info's serviceFeatures, as the platform lists them: each
// feature's name and whether it is on, with the reason when it is off (the recorded answer
// has 49 entries; these are the ones about calls). International calling is off for the
// whole account; RingOut is off for a user without the permission.
func serviceFeatures(u *User) []map[string]any {
	feature := func(name string, on bool, reason string) map[string]any {
		f := map[string]any{"featureName": name, "enabled": on}
		if !on {
			f["reason"] = reason
		}
		return f
	}
	return []map[string]any{
		feature("RingOut", u.RingOut, "ExtensionLimitation"),
		feature("InternationalCalling", false, "AccountLimitation"),
		feature("CallForwarding", true, ""),
		feature("VoipCalling", true, ""),
		feature("Voicemail", true, ""),
		feature("CallerIdControl", false, "AccountLimitation"),
		feature("EmergencyCalling", true, ""),
		feature("Conferencing", false, "AccountLimitation"),
	}
}

// paging is the spec's paging and navigation for a list that fits one page.
func paging(r *http.Request, listURI string, n int) (map[string]any, map[string]any, bool) {
	perPage := 100
	if v := r.URL.Query().Get("perPage"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 {
			return nil, nil, false
		}
		perPage = min(p, 1000)
	}
	page := 1
	if v := r.URL.Query().Get("page"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 {
			return nil, nil, false
		}
		page = p
	}
	pg := map[string]any{"page": page, "perPage": perPage, "totalElements": n, "totalPages": (n + perPage - 1) / perPage}
	if start := (page - 1) * perPage; start < n {
		pg["pageStart"] = start
		pg["pageEnd"] = min(start+perPage, n) - 1
	}
	link := func(p int) map[string]any {
		return map[string]any{"uri": fmt.Sprintf("%s?page=%d&perPage=%d", listURI, p, perPage)}
	}
	last := max(1, (n+perPage-1)/perPage)
	nav := map[string]any{"firstPage": link(1), "lastPage": link(last)}
	if page > 1 {
		nav["previousPage"] = link(page - 1)
	}
	if page < last {
		nav["nextPage"] = link(page + 1)
	}
	return pg, nav, true
}

// pageOf returns the records of the requested page.
func pageOf[T any](records []T, pg map[string]any) []T {
	start, ok := pg["pageStart"].(int)
	if !ok {
		return []T{}
	}
	return records[start : pg["pageEnd"].(int)+1]
}

// forwardingNumbers is GET extension/{extensionId}/forwarding-number.
func (s *Sim) forwardingNumbers(w http.ResponseWriter, r *http.Request, u *User) {
	base := baseURL(r)
	listURI := extensionURI(base, u) + "/forwarding-number"
	pg, nav, ok := paging(r, listURI, len(u.Forwarding))
	if !ok {
		writeParamError(w, "perPage")
		return
	}
	var records []map[string]any
	flip := 0
	for _, f := range u.Forwarding {
		rec := map[string]any{"id": f.ID, "uri": listURI + "/" + f.ID, "label": f.Label, "type": f.Type, "features": f.features()}
		if f.PhoneNumber != "" {
			rec["phoneNumber"] = f.PhoneNumber
		}
		if f.DeviceID != "" {
			rec["device"] = map[string]any{"id": f.DeviceID}
		}
		if slices.Contains(f.features(), "CallFlip") {
			flip++
			rec["flipNumber"] = strconv.Itoa(flip)
		}
		records = append(records, rec)
	}
	writeJSON(w, http.StatusOK, map[string]any{"uri": listURI, "records": pageOf(records, pg), "paging": pg, "navigation": nav})
}

// phoneNumbers is GET extension/{extensionId}/phone-number: the user's direct number and the
// company's main number.
func (s *Sim) phoneNumbers(w http.ResponseWriter, r *http.Request, u *User) {
	base := baseURL(r)
	listURI := extensionURI(base, u) + "/phone-number"
	country := map[string]any{"id": "1", "uri": base + "/restapi/v1.0/dictionary/country/1", "name": "United States"}
	direct, _ := strconv.ParseInt(u.ID[:7]+"201", 10, 64)
	main := int64(37439510001)
	records := []map[string]any{
		{"id": direct, "uri": listURI + "/" + strconv.FormatInt(direct, 10), "phoneNumber": u.DirectPhone, "country": country,
			"paymentType": "Local", "location": "Belmont, CA", "status": "Normal", "type": "VoiceFax",
			"usageType": "DirectNumber", "features": []string{"CallerId", "SmsSender"}, "primary": true},
		{"id": main, "uri": listURI + "/" + strconv.FormatInt(main, 10), "phoneNumber": MainNumber, "country": country,
			"paymentType": "Local", "location": "Belmont, CA", "status": "Normal", "type": "VoiceFax",
			"usageType": "MainCompanyNumber", "features": []string{"CallerId"}, "primary": false},
	}
	pg, nav, ok := paging(r, listURI, len(records))
	if !ok {
		writeParamError(w, "perPage")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"uri": listURI, "records": pageOf(records, pg), "paging": pg, "navigation": nav})
}

// callerIDNumbers are the user's numbers with the CallerId feature (phoneNumbers lists
// them): a RingOut's callerId must be one of them.
func callerIDNumbers(u *User) []string { return []string{u.DirectPhone, MainNumber} }

// callerID is GET extension/{extensionId}/caller-id.
func (s *Sim) callerID(w http.ResponseWriter, r *http.Request, u *User) {
	base := baseURL(r)
	direct := u.ID[:7] + "201"
	phone := map[string]any{"type": "PhoneNumber", "phoneInfo": map[string]any{
		"id": direct, "uri": extensionURI(base, u) + "/phone-number/" + direct, "phoneNumber": u.DirectPhone}}
	var byFeature []map[string]any
	for _, f := range []string{"RingOut", "RingMe", "CallFlip", "MobileApp", "Alternate"} {
		byFeature = append(byFeature, map[string]any{"feature": f, "callerId": phone})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"uri": extensionURI(base, u) + "/caller-id", "byDevice": []any{}, "byFeature": byFeature,
		"extensionNameForOutboundCalls": false, "extensionNumberForInternalCalls": true,
	})
}

// directoryEntries is GET account/{accountId}/directory/entries: the company directory,
// paged as the platform pages it (page from 1, perPage default 1000, at most 2000, or
// "all"/"max"), its paging without navigation links, as the spec shows it. With
// showFederated=false the account section is left out.
func (s *Sim) directoryEntries(w http.ResponseWriter, r *http.Request, u *User) {
	q := r.URL.Query()
	records := s.dir.entries(baseURL(r), q.Get("showFederated") != "false")
	perPage := 1000
	switch v := q.Get("perPage"); v {
	case "":
	case "all", "max":
		perPage = max(2000, len(records))
	default:
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 2000 {
			writeParamError(w, "perPage")
			return
		}
		perPage = p
	}
	page := 1
	if v := q.Get("page"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 {
			writeParamError(w, "page")
			return
		}
		page = p
	}
	n := len(records)
	pg := map[string]any{"page": page, "perPage": perPage, "totalElements": n, "totalPages": (n + perPage - 1) / perPage}
	out := []map[string]any{}
	if start := (page - 1) * perPage; start < n {
		end := min(start+perPage, n)
		pg["pageStart"], pg["pageEnd"] = start, end-1
		out = records[start:end]
	}
	writeJSON(w, http.StatusOK, map[string]any{"records": out, "paging": pg})
}

// ringOutRequest is the spec's MakeRingOutRequest.
type ringOutRequest struct {
	From *struct {
		PhoneNumber        string `json:"phoneNumber"`
		ForwardingNumberID string `json:"forwardingNumberId"`
	} `json:"from"`
	To *struct {
		PhoneNumber string `json:"phoneNumber"`
	} `json:"to"`
	CallerID *struct {
		PhoneNumber string `json:"phoneNumber"`
	} `json:"callerId"`
	PlayPrompt bool `json:"playPrompt"`
	Country    *struct {
		ID string `json:"id"`
	} `json:"country"`
}

// normalize turns E.164 (+16505550123, spaces, dashes, dots and parentheses allowed) or the
// guide's digits-only form with country code (16505550123) into E.164. Ten digits are a US
// national number. Anything else is invalid.
func normalize(s string) (string, bool) {
	s = strings.TrimSpace(s)
	plus := strings.HasPrefix(s, "+")
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0, r == ' ', r == '-', r == '.', r == '(', r == ')':
		default:
			return "", false
		}
	}
	d := b.String()
	if !plus && len(d) == 10 {
		d = "1" + d
	}
	if len(d) < 11 || len(d) > 15 || d[0] == '0' {
		return "", false
	}
	return "+" + d, true
}

func ringOutURI(base string, u *User, id string) string {
	return extensionURI(base, u) + "/ring-out/" + id
}

// ringOutStatus is the spec's GetRingOutStatusResponse.
type ringOutStatus struct {
	ID     any           `json:"id"` // a string, or a json.Number with -sim-ids digits
	URI    string        `json:"uri"`
	Status RingOutStatus `json:"status"`
}

func (s *Sim) writeRingOut(w http.ResponseWriter, r *http.Request, u *User, c *Call) {
	now := s.Now()
	s.mu.Lock()
	st, _ := c.statusAt(now)
	s.mu.Unlock()
	var id any = c.ID
	if s.ids == IDsDigits {
		id = json.Number(c.ID) // 234343434, as the guide shows it
	}
	writeJSON(w, http.StatusOK, ringOutStatus{ID: id, URI: ringOutURI(baseURL(r), u, c.ID),
		Status: st})
}

// createRingOut is POST ring-out (or ringout).
func (s *Sim) createRingOut(w http.ResponseWriter, r *http.Request, u *User) {
	if !u.RingOut {
		writeError(w, http.StatusForbidden, "CMN-401", "In order to call this API endpoint, application needs to have [RingOut] permission")
		return
	}
	body, err := readBody(r)
	var req ringOutRequest
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(body))
		err = dec.Decode(&req)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "CMN-101", "Request body is invalid JSON")
		return
	}
	if req.To == nil || req.To.PhoneNumber == "" {
		writeParamError(w, "to.phoneNumber")
		return
	}
	to, ok := normalize(req.To.PhoneNumber)
	if !ok {
		writeParamError(w, "to.phoneNumber")
		return
	}
	var from string
	switch {
	case req.From == nil || (req.From.PhoneNumber == "" && req.From.ForwardingNumberID == ""):
		from = u.Forwarding[0].PhoneNumber
	case req.From.ForwardingNumberID != "":
		for _, f := range u.Forwarding {
			if f.ID == req.From.ForwardingNumberID && f.CanRingOut() {
				from = f.PhoneNumber
			}
		}
		if from == "" {
			writeParamError(w, "from.forwardingNumberId")
			return
		}
	default:
		if from, ok = normalize(req.From.PhoneNumber); !ok {
			writeParamError(w, "from.phoneNumber")
			return
		}
	}
	callerID := u.DirectPhone // the caller id setting for RingOut (callerID below)
	if req.CallerID != nil && req.CallerID.PhoneNumber != "" {
		n, ok := normalize(req.CallerID.PhoneNumber)
		if !ok || !slices.Contains(callerIDNumbers(u), n) {
			writeParamError(w, "callerId.phoneNumber")
			return
		}
		callerID = n
	}
	now := s.Now()
	c := newCall(s.newRingOutID(), u.ID, from, to, req.PlayPrompt, now, s.retention)
	c.CallerID = callerID
	s.mu.Lock()
	for id, old := range s.calls { // forget calls nobody can read any more
		if old.gone(now) {
			delete(s.calls, id)
		}
	}
	s.calls[c.ID] = c
	s.notifyLocked(c, now)
	s.mu.Unlock()
	s.writeRingOut(w, r, u, c)
}

// lookup finds a readable call of u, writing 404 CMN-102 when there is none.
func (s *Sim) lookup(w http.ResponseWriter, r *http.Request, u *User) *Call {
	now := s.Now()
	s.mu.Lock()
	c := s.calls[r.PathValue("ringoutId")]
	if c != nil && c.gone(now) {
		delete(s.calls, c.ID)
		c = nil
	}
	s.mu.Unlock()
	if c == nil || c.Owner != u.ID {
		writeNotFound(w, "ringoutId")
		return nil
	}
	return c
}

// getRingOut is GET ring-out/{ringoutId}.
func (s *Sim) getRingOut(w http.ResponseWriter, r *http.Request, u *User) {
	if c := s.lookup(w, r, u); c != nil {
		s.writeRingOut(w, r, u, c)
	}
}

// deleteRingOut is DELETE ring-out/{ringoutId}: ends the call while Options.Cancel allows
// (by default only while the caller's phone rings); afterwards it still answers 204 and the
// call goes on, as the guide says.
func (s *Sim) deleteRingOut(w http.ResponseWriter, r *http.Request, u *User) {
	c := s.lookup(w, r, u)
	if c == nil {
		return
	}
	now := s.Now()
	s.mu.Lock()
	if c.cancelable(now, s.cancel) {
		c.canceled = true
		s.notifyLocked(c, now)
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
