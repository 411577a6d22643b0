package router

import (
	"math"
	"net/http"
	"testing"
	"time"
)

func TestParseFormatGrpcTimeout(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1S", time.Second, true}, {"200m", 200 * time.Millisecond, true}, {"99999999n", 99999999, true},
		{"3H", 3 * time.Hour, true}, {"2M", 2 * time.Minute, true}, {"7u", 7 * time.Microsecond, true},
		{"0m", 0, true}, {"99999999H", math.MaxInt64, true},
		{"", 0, false}, {"S", 0, false}, {"123456789S", 0, false}, {"1s", 0, false}, {"-1S", 0, false},
		{"+1S", 0, false}, {"1.5S", 0, false}, {" 1S", 0, false},
	} {
		got, ok := ParseGrpcTimeout(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseGrpcTimeout(%q) = %v %v, want %v %v", c.in, got, ok, c.want, c.ok)
		}
	}
	for _, d := range []time.Duration{1, 1500 * time.Millisecond, 4*time.Second + 800*time.Millisecond, 30 * time.Hour, math.MaxInt64} {
		got, ok := ParseGrpcTimeout(FormatGrpcTimeout(d))
		if !ok || got > d || d-got > d/1e6 {
			t.Errorf("FormatGrpcTimeout(%v) = %q reads back as %v", d, FormatGrpcTimeout(d), got)
		}
	}
}

// TestRequestTimeouts checks Envoy's choice of timeouts for gRPC and other
// requests on routes with the gRPC settings.
func TestRequestTimeouts(t *testing.T) {
	tbl := compileYAML(t, `virtual_hosts:
  - name: v
    domains: ["*"]
    routes:
      - {match: {prefix: "/old"}, route: {cluster: c, max_grpc_timeout: 2s, grpc_timeout_offset: 100ms}}
      - {match: {prefix: "/nocap"}, route: {cluster: c, max_grpc_timeout: 0s}}
      - {match: {prefix: "/msd"}, route: {cluster: c, timeout: 5s, max_stream_duration: {max_stream_duration: 30s, grpc_timeout_header_max: 10s, grpc_timeout_header_offset: 1s}}}
      - {match: {prefix: "/plain"}, route: {cluster: c, timeout: 3s}}
`)
	grpcReq := func(path, timeout string) *http.Request {
		h := []string{"Content-Type", "application/grpc"}
		if timeout != "" {
			h = append(h, "Grpc-Timeout", timeout)
		}
		return request("POST", path, "h", h...)
	}
	for _, c := range []struct {
		name string
		req  *http.Request
		want Timeouts
	}{
		{"header under the cap, offset", grpcReq("/old", "500m"), Timeouts{Route: 400 * time.Millisecond, GRPC: true}},
		{"header over the cap", grpcReq("/old", "1M"), Timeouts{Route: 1900 * time.Millisecond, GRPC: true}},
		{"no header: the cap", grpcReq("/old", ""), Timeouts{Route: 1900 * time.Millisecond, GRPC: true}},
		{"offset not below the timeout", grpcReq("/old", "100m"), Timeouts{Route: 100 * time.Millisecond, GRPC: true}},
		{"not gRPC: route timeout", request("POST", "/old", "h", "Grpc-Timeout", "1S"), Timeouts{Route: DefaultTimeout}},
		{"no cap, no header: infinity", grpcReq("/nocap", ""), Timeouts{GRPC: true}},
		{"no cap, header", grpcReq("/nocap", "1H"), Timeouts{Route: time.Hour, GRPC: true}},
		{"stream: header capped, offset", grpcReq("/msd", "20S"), Timeouts{Route: 5 * time.Second, Stream: 9 * time.Second}},
		{"stream: header", grpcReq("/msd", "3S"), Timeouts{Route: 5 * time.Second, Stream: 2 * time.Second}},
		{"stream: no header", grpcReq("/msd", ""), Timeouts{Route: 5 * time.Second, Stream: 30 * time.Second}},
		{"stream: bad header", grpcReq("/msd", "3s"), Timeouts{Route: 5 * time.Second, Stream: 30 * time.Second}},
		{"plain route ignores grpc-timeout", grpcReq("/plain", "1S"), Timeouts{Route: 3 * time.Second}},
	} {
		rt := tbl.Route(c.req)
		if rt == nil {
			t.Fatalf("%s: no route", c.name)
		}
		if got := rt.RequestTimeouts(c.req.Header); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

// FuzzGrpcTimeout feeds grpc-timeout values (seeded from grpc-go's own
// headers): parsing never panics, and what parses formats back to a value
// that parses to at most the same duration.
func FuzzGrpcTimeout(f *testing.F) {
	for _, s := range []string{"29999994u", "4999m", "1S", "99999999H", "0n", "1x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := ParseGrpcTimeout(v)
		if !ok {
			return
		}
		if d < 0 {
			t.Fatalf("%q parsed negative: %v", v, d)
		}
		back, ok := ParseGrpcTimeout(FormatGrpcTimeout(d))
		if !ok || back > d {
			t.Fatalf("%q: %v formats as %q, reads %v", v, d, FormatGrpcTimeout(d), back)
		}
	})
}
