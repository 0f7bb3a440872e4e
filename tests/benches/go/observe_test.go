// client_golang's histogram Observe, native and classic, for BENCHMARKS.md's native
// histogram row: the same values as prometheus-client's `native_observe` bench.
//
//	cd tests/benches/go && GO111MODULE=off GOPATH=/usr/share/gocode go test -bench . -benchtime 3s
//
// (Debian's golang-go and golang-github-prometheus-client-golang-dev.)
package observe

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func values() []float64 {
	v := make([]float64, 1024)
	for i := range v {
		v[i] = float64(i%1000+1) / 1000.0
	}
	return v
}

func BenchmarkNativeObserve(b *testing.B) {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:                           "native",
		Help:                           "native",
		NativeHistogramBucketFactor:    1.1,
		NativeHistogramMaxBucketNumber: 160,
	})
	v := values()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.Observe(v[i&1023])
	}
}

func BenchmarkClassicObserve(b *testing.B) {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "classic", Help: "classic"})
	v := values()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.Observe(v[i&1023])
	}
}
