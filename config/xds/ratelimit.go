package xds

import (
	"fmt"
	"math"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/grpc"

	"github.com/sluice-proxy/sluice/internal/tokenbucket"
)

// Envoy's rate_limit_settings defaults: a bucket of 100 requests filled
// at 10 a second.
const (
	defaultRateLimitTokens = 100
	defaultRateLimitFill   = 10.0
)

// rateLimit is an ApiConfigSource's rate_limit_settings: a token bucket on
// the requests sluice sends to the management server, kept across
// reconnects as Envoy keeps one per gRPC mux. A request finding the bucket
// empty waits for the next token and counts
// control_plane.rate_limit_enforced; control_plane.pending_requests shows
// the requests waiting. The bucket is internal/tokenbucket with one token
// per 1/fill_rate seconds, which yields the same whole tokens as Envoy's
// continuously filled bucket.
type rateLimit struct {
	max  uint32
	fill float64
}

// newRateLimit reads rate_limit_settings; nil when it is absent (no limit).
func newRateLimit(rls *corev3.RateLimitSettings, path string) (*rateLimit, error) {
	if rls == nil {
		return nil, nil
	}
	r := &rateLimit{max: defaultRateLimitTokens, fill: defaultRateLimitFill}
	if v := rls.GetMaxTokens(); v != nil {
		r.max = v.GetValue()
	}
	if v := rls.GetFillRate(); v != nil {
		r.fill = v.GetValue()
	}
	if r.max == 0 {
		return nil, fmt.Errorf("%s.rate_limit_settings.max_tokens: must be positive", path)
	}
	if !(r.fill > 0) || math.IsInf(r.fill, 0) || time.Duration(float64(time.Second)/r.fill) <= 0 {
		return nil, fmt.Errorf("%s.rate_limit_settings.fill_rate: must be a positive number of requests a second, got %v", path, r.fill)
	}
	return r, nil
}

// bucket returns a full bucket for one stream's lifetime (its reconnects
// included).
func (r *rateLimit) bucket() *tokenbucket.Bucket {
	return tokenbucket.New(r.max, 1, time.Duration(float64(time.Second)/r.fill), time.Now())
}

// limitedStream sends through the stream's bucket.
type limitedStream struct {
	grpc.ClientStream
	b *tokenbucket.Bucket
	c *Client
}

// SendMsg waits for a token (or the stream's end) and sends.
func (l limitedStream) SendMsg(m any) error {
	ok, _, reset := l.b.Take(time.Now())
	if !ok {
		l.c.cp.rateLimited.Inc()
		l.c.cp.pendingRequests.Inc()
		defer l.c.cp.pendingRequests.Dec()
		for !ok {
			t := time.NewTimer(reset)
			select {
			case <-l.Context().Done():
				t.Stop()
				return l.Context().Err()
			case <-t.C:
			}
			ok, _, reset = l.b.Take(time.Now())
		}
	}
	return l.ClientStream.SendMsg(m)
}

// limit wraps cs in the stream's rate limit, if it has one.
func (s *stream) limit(cs grpc.ClientStream, c *Client) grpc.ClientStream {
	if s.rl == nil {
		return cs
	}
	if s.bucket == nil {
		s.bucket = s.rl.bucket()
	}
	return limitedStream{ClientStream: cs, b: s.bucket, c: c}
}
