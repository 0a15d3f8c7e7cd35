package main

import (
	"math"
	"testing"
)

func TestHistogramQuantiles(t *testing.T) {
	const h = `# TYPE x histogram
x_bucket{le="0.01"} 50
x_bucket{le="0.02"} 90
x_bucket{le="0.1"} 100
x_bucket{le="+Inf"} 100
x_sum 1
x_count 100
`
	tests := []struct {
		name     string
		metrics  string
		p50, p99 float64
		n        int
	}{
		{"interpolated inside buckets", h, 0.01, 0.02 + 0.08*0.9, 100},
		{"no observations", `x_bucket{le="+Inf"} 0`, 0, 0, 0},
		{"absent", "", 0, 0, 0},
		{"beyond the last finite bucket", "x_bucket{le=\"0.1\"} 1\nx_bucket{le=\"+Inf\"} 10\n", 0.1, 0.1, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p50, p99, n := histogramQuantiles(tt.metrics, "x", .5, .99)
			if math.Abs(p50-tt.p50) > 1e-9 || math.Abs(p99-tt.p99) > 1e-9 || n != tt.n {
				t.Errorf("got p50 %v p99 %v n %d, want %v %v %d", p50, p99, n, tt.p50, tt.p99, tt.n)
			}
		})
	}
}

// TestCPUShare: CPU seconds over wall seconds as a percentage of a core, and per 1,000
// live calls (-external-sim reports the app's and the simulator's this way).
func TestCPUShare(t *testing.T) {
	if core, per := cpuShare(3, 60, 500); math.Abs(core-5) > 1e-9 || math.Abs(per-10) > 1e-9 {
		t.Errorf("cpuShare(3 s, 60 s, 500 calls) = %v %%, %v %% per 1,000; want 5, 10", core, per)
	}
	if _, per := cpuShare(1, 10, 0); per != 0 {
		t.Errorf("per 1,000 calls without calls = %v, want 0", per)
	}
}

func TestSumSamples(t *testing.T) {
	const m = `# TYPE r counter
r{group="Light",status="200"} 2
r{group="Heavy",status="429"} 1.5
rr{group="Light",status="200"} 100
r_other 7
`
	if got := sumSamples(m, "r"); got != 3.5 {
		t.Errorf("sumSamples = %v, want 3.5", got)
	}
}
