package ratelimit

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// FuzzResponse feeds rate limit service answers (wire bytes, seeded with
// one the service sent in TestRateLimitService) through the header
// builder: nothing may panic, and x-ratelimit-remaining is the smallest
// remaining count of a status with a limit.
func FuzzResponse(f *testing.F) {
	seed, _ := proto.Marshal(&rlsv3.RateLimitResponse{OverallCode: rlsv3.RateLimitResponse_OK, Statuses: []*rlsv3.RateLimitResponse_DescriptorStatus{
		{Code: rlsv3.RateLimitResponse_OK, CurrentLimit: &rlsv3.RateLimitResponse_RateLimit{RequestsPerUnit: 2, Unit: rlsv3.RateLimitResponse_RateLimit_MINUTE},
			LimitRemaining: 1, DurationUntilReset: durationpb.New(37 * time.Second)},
		{Code: rlsv3.RateLimitResponse_OK, CurrentLimit: &rlsv3.RateLimitResponse_RateLimit{RequestsPerUnit: 5, Unit: rlsv3.RateLimitResponse_RateLimit_MINUTE, Name: "api"},
			LimitRemaining: 4},
	}})
	f.Add(seed)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var resp rlsv3.RateLimitResponse
		if proto.Unmarshal(b, &resp) != nil {
			return
		}
		h := http.Header{}
		xRateLimitHeaders(h, resp.GetStatuses())
		min, any := uint32(0), false
		for _, s := range resp.GetStatuses() {
			if s.GetCurrentLimit() != nil && (!any || s.GetLimitRemaining() < min) {
				min, any = s.GetLimitRemaining(), true
			}
		}
		if !any {
			if len(h) != 0 {
				t.Fatalf("headers without limits: %v", h)
			}
			return
		}
		if got := h.Get("X-Ratelimit-Remaining"); got != strconv.FormatUint(uint64(min), 10) {
			t.Fatalf("remaining %q, want %d", got, min)
		}
		lim := h.Get("X-Ratelimit-Limit")
		if !strings.Contains(lim, ";w=") || strings.ContainsAny(lim, "\r\n") {
			t.Fatalf("limit %q", lim)
		}
	})
}
