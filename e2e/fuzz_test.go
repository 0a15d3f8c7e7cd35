package e2e

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzCallForm posts arbitrary from, to and playPrompt values to POST /calls of the real
// app, signed in: the answer is the call card (201) or the form with its messages (422),
// never a 5xx, and the app keeps serving.
func FuzzCallForm(f *testing.F) {
	app, _ := runApp(f, nil, "-sim-speed", "4")
	c := httpSignIn(f, app, "demo")
	seeds := [][4]string{ // from, from_other, to, playPrompt
		{"", "", "+16505550120", "on"}, // valid: the Heavy budget takes 4 at once, then refuses at once (422)
		{"", "", "", ""},
		{"", "", "abc", ""},
		{"", "", "+", "on"},
		{"", "", "+999999999999999999999999999999", ""},
		{"", "", "0000000000000000000000000000000000000000000000000000000000000", ""},
		{"", "", "(650) 555-01\x00", ""},
		{"", "", "\xff\xfe", ""},
		{"", "", "650-555-0120 ext. 9999999999999999", ""},
		{"", "", "tel:+1-650-555-0120;phone-context=example.com", ""},
		{"", "", "٦٥٠٥٥٥٠١٢٠", ""}, // Arabic-Indic digits
		{"", "", "<script>alert(1)</script>", ""},
		{"other", "", "65055501", "x"},
		{"other", "\u202e0210555056", "6505550120", ""},
		{"+1650555", "", "+44", ""},
		{strings.Repeat("9", 5000), "", strings.Repeat("+1", 5000), strings.Repeat("on", 1000)},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, from, fromOther, to, prompt string) {
		form := url.Values{"from": {from}, "from_other": {fromOther}, "to": {to}, "playPrompt": {prompt}}
		status, body := post(t, c, app.URL+"/calls", form, nil)
		switch status {
		case http.StatusCreated:
			if len(cards(body)) != 1 {
				t.Errorf("201 without a call card:\n%s", body)
			}
		case http.StatusUnprocessableEntity:
			if formError(body) == "" {
				t.Errorf("422 without a message for the person:\n%s", body)
			}
		default:
			t.Errorf("POST /calls from=%q from_other=%q to=%q playPrompt=%q: HTTP %d, want 201 or 422:\n%.300s", from, fromOther, to, prompt, status, body)
		}
		if strings.Contains(body, "<script>alert") {
			t.Error("input echoed unescaped")
		}
	})
	if strings.Contains(app.out.String(), `"msg":"panic"`) {
		f.Errorf("the app logged a panic:\n%s", app.out.String())
	}
}

// FuzzWebSocketFrames sends arbitrary bytes as WebSocket frames to /ws of the real app,
// signed in: the server closes the connection cleanly (a close frame or EOF, promptly),
// never hangs or panics, and keeps serving.
func FuzzWebSocketFrames(f *testing.F) {
	app, _ := runApp(f, nil, "-sim-speed", "4")
	c := httpSignIn(f, app, "demo")
	mask := func(op byte, payload string) []byte { // a masked client frame with FIN
		b := []byte{0x80 | op, 0x80 | byte(len(payload)), 1, 2, 3, 4}
		for i := range len(payload) {
			b = append(b, payload[i]^b[2+i%4])
		}
		return b
	}
	for _, s := range [][]byte{
		mask(0x1, "hello"),                    // text: the page never sends data
		mask(0x2, "\x00\x01"),                 // binary
		mask(0x9, "ping"),                     // ping: answered, then EOF ends it
		mask(0x8, "\x03\xe8bye"),              // close 1000
		mask(0x8, "\x00"),                     // malformed close payload
		mask(0x1, strings.Repeat("x", 125)),   // near the read limit
		{0x81, 0x05, 'h', 'e', 'l', 'l', 'o'}, // unmasked client frame
		{0x01, 0x81, 1, 2, 3, 4, 'a'},         // fragment without FIN
		{0xf1, 0x80, 1, 2, 3, 4},              // reserved bits
		{0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, // 2^63 length
		{0x82, 0xfe, 0xff, 0xff, 1, 2, 3, 4},                         // 64 KiB: over the read limit
		{0x89, 0xfe, 0x00, 0x80, 1, 2, 3, 4},                         // control frame too long
		{},
		[]byte("GET / HTTP/1.1\r\n\r\n"),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, frames []byte) {
		conn := openWS(t, app.URL, c)
		defer conn.Close()
		raw := conn.UnderlyingConn().(*net.TCPConn)
		raw.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := raw.Write(frames); err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
			t.Fatalf("writing: %v", err)
		}
		raw.CloseWrite() // end of input: a half-sent frame must not keep the server waiting
		buf := make([]byte, 4096)
		for {
			_, err := raw.Read(buf)
			if err == nil {
				continue
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the server kept the connection open after bad frames %q", frames)
			}
			break // EOF or reset: the server closed it
		}
	})
	if status, _ := get(f, http.DefaultClient, app.URL+"/healthz"); status != http.StatusOK {
		f.Errorf("healthz = %d after the fuzzing", status)
	}
	if strings.Contains(app.out.String(), `"msg":"panic"`) {
		f.Errorf("the app logged a panic:\n%s", app.out.String())
	}
}

func isReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe")
}
