package app

import "testing"

// TestConnectionBudget: the WebSockets' cap comes from the same descriptor budget as the
// listener's, and always leaves room for requests (placing and canceling calls).
func TestConnectionBudget(t *testing.T) {
	for _, tt := range []struct{ limit, total, webSockets int }{
		{256, 16, 8},              // a tiny limit: half of what is left
		{1024, 768, 692},          // a tenth of the connections stays for requests
		{65536, 58983, 53085},     // a common hard limit
		{1 << 20, 943719, 849348}, // no usable limit
	} {
		got := budgetFor(tt.limit)
		if got.total != tt.total || got.webSockets != tt.webSockets {
			t.Errorf("budgetFor(%d) = %+v, want total %d, WebSockets %d", tt.limit, got, tt.total, tt.webSockets)
		}
		if got.webSockets <= 0 || got.total-got.webSockets < min(64, got.total/2) {
			t.Errorf("budgetFor(%d) = %+v leaves too little for requests", tt.limit, got)
		}
	}
	if b := connectionBudget(); b.webSockets <= 0 || b.webSockets >= b.total {
		t.Errorf("connectionBudget() = %+v", b)
	}
}
