package router

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/sluice-proxy/sluice/config"
)

// grpcTimeouts are a route's gRPC deadline settings: Envoy's older
// max_grpc_timeout / grpc_timeout_offset, which replace the route timeout,
// and max_stream_duration, which bounds the stream besides it.
type grpcTimeouts struct {
	hasMax    bool          // max_grpc_timeout set
	max       time.Duration // 0: no cap
	offset    time.Duration
	stream    time.Duration // max_stream_duration; 0: none
	hasHdrMax bool          // grpc_timeout_header_max set
	hdrMax    time.Duration // 0: no cap
	hdrOffset time.Duration
}

func compileGrpcTimeouts(a *config.RouteAction) grpcTimeouts {
	var g grpcTimeouts
	if a.MaxGrpcTimeout != nil {
		g.hasMax, g.max = true, a.MaxGrpcTimeout.D()
	}
	if a.GrpcTimeoutOffset != nil {
		g.offset = a.GrpcTimeoutOffset.D()
	}
	if m := a.MaxStreamDuration; m != nil {
		if m.MaxStreamDuration != nil {
			g.stream = m.MaxStreamDuration.D()
		}
		if m.GrpcTimeoutHeaderMax != nil {
			g.hasHdrMax, g.hdrMax = true, m.GrpcTimeoutHeaderMax.D()
		}
		if m.GrpcTimeoutHeaderOffset != nil {
			g.hdrOffset = m.GrpcTimeoutHeaderOffset.D()
		}
	}
	return g
}

// Timeouts are what bounds one request on its route.
type Timeouts struct {
	// Route is the upstream timeout (0: none): the route's timeout, or
	// with max_grpc_timeout the request's grpc-timeout, capped and offset.
	Route time.Duration
	// Stream bounds the whole stream (0: none): max_stream_duration, or
	// with grpc_timeout_header_max the request's grpc-timeout, capped and
	// offset.
	Stream time.Duration
	// GRPC is set when Route came from the gRPC rules: the router sends
	// it upstream as grpc-timeout.
	GRPC bool
}

// RequestTimeouts applies Envoy's rules to req's headers.
func (r *Route) RequestTimeouts(h http.Header) Timeouts {
	t := Timeouts{Route: r.timeout, Stream: r.grpcT.stream}
	g := r.grpcT
	hdr, hasHdr := ParseGrpcTimeout(h.Get("Grpc-Timeout"))
	if g.hasMax && IsGRPC(h) {
		t.Route, t.GRPC = capOffset(hdr, g.max, g.offset), true // absent: hdr is 0, infinity
	}
	if g.hasHdrMax && hasHdr {
		t.Stream = capOffset(hdr, g.hdrMax, g.hdrOffset)
	}
	return t
}

// capOffset caps d (0: infinity) at max (0: none), then takes off offset
// when it is smaller than the result.
func capOffset(d, max, offset time.Duration) time.Duration {
	if max > 0 && (d == 0 || d > max) {
		d = max
	}
	if offset > 0 && offset < d {
		d -= offset
	}
	return d
}

// ParseGrpcTimeout reads a grpc-timeout header value (gRPC's
// PROTOCOL-HTTP2: 1 to 8 digits and a unit of H, M, S, m, u or n); false
// when absent or malformed, which Envoy treats as no timeout.
func ParseGrpcTimeout(v string) (time.Duration, bool) {
	if len(v) < 2 || len(v) > 9 {
		return 0, false
	}
	n, err := strconv.ParseUint(v[:len(v)-1], 10, 64)
	if err != nil {
		return 0, false
	}
	var unit time.Duration
	switch v[len(v)-1] {
	case 'H':
		unit = time.Hour
	case 'M':
		unit = time.Minute
	case 'S':
		unit = time.Second
	case 'm':
		unit = time.Millisecond
	case 'u':
		unit = time.Microsecond
	case 'n':
		unit = time.Nanosecond
	default:
		return 0, false
	}
	if n > uint64(math.MaxInt64/unit) {
		return math.MaxInt64, true // 99999999H overflows int64 nanoseconds
	}
	return time.Duration(n) * unit, true
}

// FormatGrpcTimeout renders d as a grpc-timeout value, in the finest unit
// that keeps it within 8 digits.
func FormatGrpcTimeout(d time.Duration) string {
	if d <= 0 {
		return "0n"
	}
	for _, u := range []struct {
		c byte
		d time.Duration
	}{{'n', time.Nanosecond}, {'u', time.Microsecond}, {'m', time.Millisecond}, {'S', time.Second}, {'M', time.Minute}} {
		if v := d / u.d; v < 1e8 {
			return strconv.FormatInt(int64(v), 10) + string(u.c)
		}
	}
	return strconv.FormatInt(int64(d/time.Hour), 10) + "H"
}
