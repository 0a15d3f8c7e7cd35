package rcsim

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// The demo account.
const (
	AccountID  = "37439510"
	MainNumber = "+16505550100"
)

// User is one extension of the demo account.
type User struct {
	ID          string // extension id, e.g. "1640191004"
	Number      string // extension number, e.g. "101"
	Username    string
	Password    string
	FirstName   string
	LastName    string
	Email       string
	DirectPhone string // E.164 direct number
	Department  string // in the company directory
	JobTitle    string
	RingOut     bool // has the RingOut permission
	Forwarding  []ForwardingNumber
}

// Name is the extension name: first and last name.
func (u *User) Name() string { return u.FirstName + " " + u.LastName }

// ForwardingNumber is one record of a user's forwarding-number list. Only those with the
// CallFlip feature and a phone number can be rung first by a RingOut (CanRingOut).
type ForwardingNumber struct {
	ID          string
	PhoneNumber string // E.164; empty for a PhoneLine record (another device, DeviceID)
	Label       string
	Type        string   // Home, Mobile, Work, Other, PhoneLine, Outage, BusinessMobilePhone, …
	Features    []string // nil means CallFlip and CallForwarding
	DeviceID    string   // the device of a PhoneLine record
}

// features is the record's features as the list answers them.
func (f ForwardingNumber) features() []string {
	if f.Features == nil {
		return []string{"CallFlip", "CallForwarding"}
	}
	return f.Features
}

// CanRingOut reports whether a RingOut can ring this number first: it has the CallFlip
// feature and a phone number.
func (f ForwardingNumber) CanRingOut() bool {
	return f.PhoneNumber != "" && slices.Contains(f.features(), "CallFlip")
}

// forwardingOnly is a record for call forwarding only (no CallFlip): what a user sets up for
// when the office is down. RingCentral's apps do not offer it for RingOut.
func forwardingOnly(id, number string) ForwardingNumber {
	return ForwardingNumber{ID: id, PhoneNumber: number, Label: "Outage", Type: "Outage", Features: []string{"CallForwarding"}}
}

type directory struct {
	users []*User
	// colleagues are the account's other extensions: in the company directory, nobody
	// signs in as them.
	colleagues []Colleague
}

// Colleague is an extension of the demo account that is only in the company directory: a
// user (FirstName, LastName) or, with Type "Department", a call queue (Name).
type Colleague struct {
	ID, Number                  string // extension id and number
	Type                        string // "User" or "Department"
	FirstName, LastName, Name   string
	Department, JobTitle, Email string
	DirectPhone                 string // E.164
}

// colleagues are the demo account's other extensions. Their direct numbers' last digits
// pick their scenario like any number's (ScenarioFor): most answer; Chloe (…0235) is busy
// and Tom (…0247) declines.
var colleagues = []Colleague{
	{ID: "1640194004", Number: "104", FirstName: "Priya", LastName: "Natarajan", Department: "Engineering", JobTitle: "Engineering Manager", DirectPhone: "+16505550230"},
	{ID: "1640195004", Number: "105", FirstName: "Marcus", LastName: "Webb", Department: "Sales", JobTitle: "Account Executive", DirectPhone: "+16505550231"},
	{ID: "1640196004", Number: "106", FirstName: "Sofia", LastName: "Alvarez", Department: "Support", JobTitle: "Support Lead", DirectPhone: "+16505550232"},
	{ID: "1640197004", Number: "107", FirstName: "Kenji", LastName: "Watanabe", Department: "Engineering", JobTitle: "Software Engineer", DirectPhone: "+16505550233"},
	{ID: "1640198004", Number: "108", FirstName: "Amara", LastName: "Okafor", Department: "Finance", JobTitle: "Controller", DirectPhone: "+16505550234"},
	{ID: "1640199004", Number: "109", FirstName: "Lukas", LastName: "Becker", Department: "Marketing", JobTitle: "Product Marketing", DirectPhone: "+16505550240"},
	{ID: "1640200004", Number: "110", FirstName: "Hannah", LastName: "Cohen", Department: "People", JobTitle: "HR Partner", DirectPhone: "+16505550241"},
	{ID: "1640201004", Number: "111", FirstName: "Oliver", LastName: "Grant", Department: "Sales", JobTitle: "Sales Director", DirectPhone: "+16505550242"},
	{ID: "1640202004", Number: "112", FirstName: "Mei", LastName: "Lin", Department: "Support", JobTitle: "Support Engineer", DirectPhone: "+16505550243"},
	{ID: "1640203004", Number: "113", FirstName: "Rafael", LastName: "Costa", Department: "Engineering", JobTitle: "Site Reliability Engineer", DirectPhone: "+16505550244"},
	{ID: "1640204004", Number: "114", FirstName: "Chloe", LastName: "Martin", Department: "Legal", JobTitle: "Counsel", DirectPhone: "+16505550235"},
	{ID: "1640205004", Number: "115", FirstName: "Tom", LastName: "Okoro", Department: "Facilities", JobTitle: "Office Manager", DirectPhone: "+16505550247"},
	{ID: "1640206004", Number: "200", Type: "Department", Name: "Support line", Department: "Support", DirectPhone: "+16505550250"},
}

// newDirectory is the demo account's users. Ids look like RingCentral's numeric ids.
func newDirectory() *directory {
	return &directory{users: []*User{
		{ID: "1640191004", Number: "101", Username: "demo", Password: "demo", FirstName: "Dana", LastName: "Demo",
			Email: "demo@example.com", DirectPhone: "+16505550101", Department: "Operations", JobTitle: "Operations Analyst", RingOut: true,
			Forwarding: []ForwardingNumber{
				{ID: "1640191101", PhoneNumber: "+16505550111", Label: "My Mobile", Type: "Mobile"},
				{ID: "1640191102", PhoneNumber: "+16505550112", Label: "Home", Type: "Home"},
				{ID: "1640191103", PhoneNumber: "+14155550113", Label: "Office", Type: "Work"},
				{ID: "1640191104", PhoneNumber: "+442071838750", Label: "London office", Type: "Other"},
				forwardingOnly("1640191105", "+16505550115"),
				{ID: "1640191106", Label: "Desk phone", Type: "PhoneLine", Features: []string{"CallFlip", "CallForwarding"}, DeviceID: "1640191601"},
			}},
		{ID: "1640192004", Number: "102", Username: "demo2", Password: "demo2", FirstName: "Devon", LastName: "Second",
			Email: "demo2@example.com", DirectPhone: "+16505550102", Department: "Sales", JobTitle: "Sales Engineer", RingOut: true,
			Forwarding: []ForwardingNumber{
				{ID: "1640192101", PhoneNumber: "+16505550121", Label: "Mobile", Type: "Mobile"},
				{ID: "1640192102", PhoneNumber: "+14155550122", Label: "Desk", Type: "Work"},
				{ID: "1640192103", PhoneNumber: "+33142685300", Label: "Paris flat", Type: "Home"},
				forwardingOnly("1640192104", "+16505550124"),
			}},
		{ID: "1640193004", Number: "103", Username: "noperm", Password: "noperm", FirstName: "Noel", LastName: "Perm",
			Email: "noperm@example.com", DirectPhone: "+16505550103", Department: "Finance", JobTitle: "Accountant", RingOut: false,
			Forwarding: []ForwardingNumber{
				{ID: "1640193101", PhoneNumber: "+16505550131", Label: "Mobile", Type: "Mobile"},
				{ID: "1640193102", PhoneNumber: "+442071838752", Label: "Other", Type: "Other"},
				forwardingOnly("1640193103", "+16505550133"),
			}},
	}, colleagues: colleagues}
}

// Colleagues returns the demo account's extensions that are only in the company directory.
func (s *Sim) Colleagues() []Colleague { return slices.Clone(s.dir.colleagues) }

// entries is the company directory: every user and colleague, by extension number.
func (d *directory) entries(base string, federated bool) []map[string]any {
	var out []map[string]any
	add := func(id, number, typ, first, last, name, dept, title, email, direct string) {
		e := map[string]any{"id": id, "type": typ, "status": "Enabled", "extensionNumber": number,
			"phoneNumbers": []map[string]any{{"phoneNumber": direct, "type": "VoiceFax", "usageType": "DirectNumber"}}}
		for k, v := range map[string]string{"firstName": first, "lastName": last, "name": name, "department": dept, "jobTitle": title, "email": email} {
			if v != "" {
				e[k] = v
			}
		}
		if federated {
			e["account"] = map[string]any{"id": AccountID, "companyName": "Demo Company"}
		}
		out = append(out, e)
	}
	for _, u := range d.users {
		add(u.ID, u.Number, "User", u.FirstName, u.LastName, "", u.Department, u.JobTitle, u.Email, u.DirectPhone)
	}
	for _, c := range d.colleagues {
		typ := cmp.Or(c.Type, "User")
		email := c.Email
		if email == "" && typ == "User" {
			email = strings.ToLower(c.FirstName+"."+c.LastName) + "@example.com"
		}
		add(c.ID, c.Number, typ, c.FirstName, c.LastName, c.Name, c.Department, c.JobTitle, email, c.DirectPhone)
	}
	slices.SortStableFunc(out, func(a, b map[string]any) int {
		x, y := a["extensionNumber"].(string), b["extensionNumber"].(string)
		return cmp.Or(cmp.Compare(len(x), len(y)), cmp.Compare(x, y))
	})
	return out
}

// Users returns the demo account's users.
func (s *Sim) Users() []User {
	out := make([]User, 0, len(s.dir.users))
	for _, u := range s.dir.users {
		c := *u
		c.Forwarding = nil
		for _, f := range u.Forwarding {
			f.Features = slices.Clone(f.Features)
			c.Forwarding = append(c.Forwarding, f)
		}
		out = append(out, c)
	}
	return out
}

func (d *directory) byID(id string) *User {
	for _, u := range d.users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

// login finds the user for a password grant or the sign-in form. The login name is the
// username, or the main number (with or without "+") together with the extension number,
// given apart or as "number*extension" (what the official SDKs send).
func (d *directory) login(name, ext, password string) *User {
	name = strings.TrimSpace(name)
	if n, e, ok := strings.Cut(name, "*"); ok && ext == "" {
		name, ext = n, e // the SDKs send "username*extension"
	}
	ext = strings.TrimSpace(ext)
	for _, u := range d.users {
		byName := strings.EqualFold(name, u.Username) && (ext == "" || ext == u.Number)
		byNumber := (name == MainNumber || name == MainNumber[1:]) && ext == u.Number
		if (byName || byNumber) && password == u.Password {
			return u
		}
	}
	return nil
}

// bySubject finds the user a JWT's sub names: extension id, username or extension number.
func (d *directory) bySubject(sub string) *User {
	for _, u := range d.users {
		if sub == u.ID || sub == u.Username || sub == u.Number {
			return u
		}
	}
	return nil
}

// Extra users for load tests (Options.ExtraUsers).
//
// Load users are load1 … loadN, password = username, extension numbers 10001 …, ids
// 1750000001 …, each with one US mobile forwarding number and the RingOut permission. The
// demo users are unchanged, and so are the rate limits: a load test that wants many calls
// spreads them over many users, as a real account would.

// addLoadUsers appends n load users to the directory.
func (d *directory) addLoadUsers(n int) {
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("load%d", i)
		d.users = append(d.users, &User{
			ID: fmt.Sprintf("%d", 1750000000+i), Number: fmt.Sprintf("%d", 10000+i),
			Username: name, Password: name, FirstName: "Load", LastName: fmt.Sprint(i),
			Email: name + "@example.com", DirectPhone: fmt.Sprintf("+1650557%04d", i%10000), RingOut: true,
			Forwarding: []ForwardingNumber{
				{ID: fmt.Sprintf("%d", 1760000000+i), PhoneNumber: fmt.Sprintf("+1650556%04d", i%10000), Label: "Mobile", Type: "Mobile"},
			},
		})
	}
}
