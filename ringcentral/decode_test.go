package ringcentral_test

import (
	"testing"

	"github.com/ringout-dialer/ringout/ringcentral"
)

// ringOutBody is a GET ring-out answer as the simulator sends it (the platform's has the
// same fields).
const ringOutBody = `{"id":"Y3MxNjg2MzAwMTIyMjAwNzQ4ODQwMDAwMDAwMDAwMQ","uri":"http://127.0.0.1:8090/restapi/v1.0/account/1000/extension/101/ring-out/Y3MxNjg2MzAwMTIyMjAwNzQ4ODQwMDAwMDAwMDAwMQ","status":{"callStatus":"InProgress","callerStatus":"Success","calleeStatus":"InProgress"}}`

// BenchmarkDecodeRingOut is the decoding of one poll's answer, as the client does it
// (one-pass), and through encoding/json as before.
func BenchmarkDecodeRingOut(b *testing.B) {
	data := []byte(ringOutBody)
	b.Run("client", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var ro ringcentral.RingOut
			if err := ro.UnmarshalJSON(data); err != nil || ro.Status.Callee != "InProgress" {
				b.Fatal(err, ro)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var ro ringcentral.RingOut
			if err := ringcentral.DecodeRingOut(data, &ro); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzRingOutDecoding: whatever the one-pass decoder of a poll's answer reads,
// encoding/json reads the same (RingOut.UnmarshalJSON falls back to it for anything else).
func FuzzRingOutDecoding(f *testing.F) {
	for _, s := range []string{ringOutBody,
		`{"id":234343434,"status":{"callStatus":"Success","callerStatus":"Success","calleeStatus":"Success"}}`,
		`{"id":"1","status":null}`, `{"ID":"1"}`, `{"id":"1","id":null}`, `{"id":01}`, `{"id":-1}`, `{"id":1.5}`,
		`{"status":{"callStatus":"A"},"status":{"callerStatus":"B"}}`, `{"x":[1,-2.5e+3,true,false,null,{"y":[]}],"id":"2"}`,
		`{"id":"a\"b"}`, `{"id":"é"}`, `{"uri":null,"id":"3"} x`, `{"id":"1",}`, `[]`, `null`, ``, `{"status":{"CallStatus":"x"}}`,
		`{"status":{"callStatus":1}}`, `{"id":true}`, "{\"id\":\"\x01\"}", `{"x":01}`, `{"x":-}`, `{"x":1.}`, `{"x":1e}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast ringcentral.RingOut
		if !ringcentral.FastRingOut(b, &fast) {
			return
		}
		var std ringcentral.RingOut
		if err := ringcentral.DecodeRingOut(b, &std); err != nil {
			t.Fatalf("%q: the one-pass decoder read %+v, encoding/json refused it: %v", b, fast, err)
		}
		if std != fast {
			t.Fatalf("%q: the one-pass decoder read %+v, encoding/json %+v", b, fast, std)
		}
	})
}
