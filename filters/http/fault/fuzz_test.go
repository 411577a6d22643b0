package fault

import (
	"net/http"
	"testing"

	"github.com/sluice-proxy/sluice/config"
)

// FuzzFaultHeaders feeds the client-controlled x-envoy-fault-* headers,
// seeded with values curl sends in the tests; a bad value must never panic
// nor produce a status or delay out of range.
func FuzzFaultHeaders(f *testing.F) {
	for _, s := range [][3]string{{"418", "", "100"}, {"", "14", "50"}, {"abc", "-1", "x"}, {"600", "99999999999", "18446744073709551616"}} {
		f.Add(s[0], s[1], s[2], "250")
	}
	hdr := &struct{}{}
	c := &Config{
		Abort: &Abort{HeaderAbort: hdr, Percentage: config.FractionalPercent{Numerator: 100}},
		Delay: &Delay{HeaderDelay: hdr, Percentage: config.FractionalPercent{Numerator: 100}},
	}
	f.Fuzz(func(t *testing.T, abort, grpc, percent, delay string) {
		h := http.Header{}
		h.Set(hdrAbort, abort)
		h.Set(hdrAbortGRPC, grpc)
		h.Set(hdrAbortPercent, percent)
		h.Set(hdrDelay, delay)
		h.Set(hdrDelayPercent, percent)
		p := decide(c, h)
		if p.aborted && p.grpcStatus < 0 && (p.httpStatus < 200 || p.httpStatus >= 600) {
			t.Fatalf("abort status %d out of range", p.httpStatus)
		}
		if p.delayed && (p.delay < 0 || p.delay > maxHeaderDelay) {
			t.Fatalf("delay %v out of range", p.delay)
		}
	})
}
