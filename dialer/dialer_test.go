package dialer

import "testing"

func TestFinal(t *testing.T) {
	tests := []struct {
		s    Status
		want bool
	}{
		{Status{}, false},
		{Status{CallInProgress, LegInProgress, LegInProgress}, false},
		{Status{CallSuccess, LegSuccess, LegSuccess}, false}, // talking
		{Status{CallSuccess, LegFinished, LegSuccess}, false},
		{Status{CallSuccess, LegFinished, LegFinished}, true},
		{Status{CallCannotReach, LegSuccess, LegBusy}, true},
		{Status{CallNoAnsweringMachine, "", ""}, true},
		{Status{CallNoSessionFound, "", ""}, true},
		{Status{CallCanceled, LegInProgress, LegInProgress}, true},
		{Status{CallLost, "", ""}, true},
		// A status RingCentral added after this was written: keep following the call.
		{Status{"Ringing", LegInProgress, "Levitating"}, false},
	}
	for _, tt := range tests {
		if got := tt.s.Final(); got != tt.want {
			t.Errorf("%+v.Final() = %v, want %v", tt.s, got, tt.want)
		}
	}
}
