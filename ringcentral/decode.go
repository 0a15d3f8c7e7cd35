package ringcentral

import (
	"github.com/ringout-dialer/ringout/dialer"
)

// A call's poller decodes one GET ring-out answer every 1.5 s or so, 1,000 calls ~660 a
// second: through encoding/json that was ~6 µs and 19 allocations each (a validating pass,
// a RawMessage pass, reflection, and a poller stack grown anew after every GC shrank it).
// fastRingOut reads the common answer in one pass with one allocation per string. It takes
// only plain input: strings without escapes, control or non-ASCII bytes, keys spelled as
// the API spells them, known fields of the expected types. Anything else (which the
// platform does not send, but might) is left to encoding/json, so the two always agree:
// FuzzRingOutDecoding checks that whatever fastRingOut accepts, encoding/json reads the same.

// fastRingOut decodes b into r and reports true, or reports false (r untouched) when b is
// not plain enough for it.
func fastRingOut(b []byte, r *RingOut) bool {
	p := parser{b: b}
	var out RingOut
	ok := p.object(func(key []byte) bool {
		switch {
		case string(key) == "id":
			return p.id(&out.ID)
		case string(key) == "uri":
			return p.str(&out.URI)
		case string(key) == "status":
			return p.status(&out.Status)
		case foldsTo(key, "id", "uri", "status"):
			return false // encoding/json matches names case-insensitively: leave it to it
		}
		return p.skip()
	})
	if !ok || !p.end() {
		return false
	}
	*r = out
	return true
}

// parser is a cursor over plain JSON (see fastRingOut).
type parser struct {
	b []byte
	i int
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// end reports whether only white space is left.
func (p *parser) end() bool {
	p.ws()
	return p.i == len(p.b)
}

func (p *parser) peek() byte {
	p.ws()
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *parser) lit(s string) bool {
	if len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

// rawStr reads a plain string and returns its bytes (without the quotes).
func (p *parser) rawStr() ([]byte, bool) {
	if p.peek() != '"' {
		return nil, false
	}
	start := p.i + 1
	for j := start; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			p.i = j + 1
			return p.b[start:j], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

// object reads an object, calling field for each key with the cursor at its value.
func (p *parser) object(field func(key []byte) bool) bool {
	if p.peek() != '{' {
		return false
	}
	p.i++
	if p.peek() == '}' {
		p.i++
		return true
	}
	for {
		key, ok := p.rawStr()
		if !ok || p.peek() != ':' {
			return false
		}
		p.i++
		if !field(key) {
			return false
		}
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return true
		default:
			return false
		}
	}
}

// str reads a string into *s; null leaves it as it is (as encoding/json does).
func (p *parser) str(s *string) bool {
	if p.peek() == 'n' {
		return p.lit("null")
	}
	b, ok := p.rawStr()
	if ok {
		*s = string(b)
	}
	return ok
}

// id reads a ring-out id: a string, or a whole number kept as its digits (ringOutID).
func (p *parser) id(s *string) bool {
	switch c := p.peek(); {
	case c == 'n':
		if p.lit("null") {
			*s = ""
			return true
		}
		return false
	case c >= '0' && c <= '9':
		start := p.i
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
		}
		if p.i < len(p.b) && (p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E') {
			return false
		}
		if p.i-start > 1 && p.b[start] == '0' {
			return false // not JSON
		}
		*s = string(p.b[start:p.i])
		return true
	}
	return p.str(s)
}

func (p *parser) status(st *dialer.Status) bool {
	if p.peek() == 'n' {
		return p.lit("null")
	}
	return p.object(func(key []byte) bool {
		switch {
		case string(key) == "callStatus":
			return p.status1((*string)(&st.Call))
		case string(key) == "callerStatus":
			return p.status1((*string)(&st.Caller))
		case string(key) == "calleeStatus":
			return p.status1((*string)(&st.Callee))
		case foldsTo(key, "callStatus", "callerStatus", "calleeStatus"):
			return false
		}
		return p.skip()
	})
}

// status1 reads a status string: the common ones without an allocation.
func (p *parser) status1(s *string) bool {
	if p.peek() == 'n' {
		return p.lit("null")
	}
	b, ok := p.rawStr()
	if !ok {
		return false
	}
	switch string(b) { // compiled to comparisons: no string is made
	case "InProgress":
		*s = "InProgress"
	case "Success":
		*s = "Success"
	case "Busy":
		*s = "Busy"
	case "NoAnswer":
		*s = "NoAnswer"
	case "Rejected":
		*s = "Rejected"
	case "Finished":
		*s = "Finished"
	default:
		*s = string(b)
	}
	return true
}

// skip passes over any plain value.
func (p *parser) skip() bool {
	switch c := p.peek(); {
	case c == '"':
		_, ok := p.rawStr()
		return ok
	case c == '{':
		return p.object(func([]byte) bool { return p.skip() })
	case c == '[':
		p.i++
		if p.peek() == ']' {
			p.i++
			return true
		}
		for {
			if !p.skip() {
				return false
			}
			switch p.peek() {
			case ',':
				p.i++
			case ']':
				p.i++
				return true
			default:
				return false
			}
		}
	case c == 't':
		return p.lit("true")
	case c == 'f':
		return p.lit("false")
	case c == 'n':
		return p.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return false
}

// number passes over a JSON number.
func (p *parser) number() bool {
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.b[p.i] == '-' {
		p.i++
	}
	start := p.i
	n := digits()
	if n == 0 || (n > 1 && p.b[start] == '0') {
		return false
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return false
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// foldsTo reports whether key equals one of names ignoring case (encoding/json's match).
func foldsTo(key []byte, names ...string) bool {
	for _, n := range names {
		if len(key) == len(n) && equalFoldASCII(key, n) {
			return true
		}
	}
	return false
}

func equalFoldASCII(a []byte, b string) bool {
	for i := range a {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
