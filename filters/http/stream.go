package httpfilter

import (
	"context"
	"net/netip"
	"strings"
	"sync/atomic"
)

// Route is what filters see of the route the connection manager matched.
type Route interface {
	// Name is the route's name ("" when unnamed).
	Name() string
	// PerFilterConfig returns the route's typed_per_filter_config entry for
	// the filter name, or nil.
	PerFilterConfig(name string) any
}

// Flag is one of Envoy's response flags (%RESPONSE_FLAGS%).
type Flag uint32

// Envoy's response flags that sluice sets.
const (
	NoRoute                  Flag = 1 << iota // NR
	NoHealthyUpstream                         // UH
	UpstreamConnectFailure                    // UF
	UpstreamRequestTimeout                    // UT
	UpstreamOverflow                          // UO
	UpstreamReset                             // UR
	DownstreamConnTerminated                  // DC
	StreamIdleTimeout                         // SI
	NoClusterFound                            // NC
	DownstreamProtocolError                   // DPE
	UpstreamProtocolError                     // UPE
	DurationTimeout                           // DT
	DNSResolutionFailure                      // DF
	RateLimited                               // RL
	ExtAuthzDenied                            // UAEX (unauthorized external service)
	RateLimitServiceError                     // RLSE
)

var flagNames = []string{"NR", "UH", "UF", "UT", "UO", "UR", "DC", "SI", "NC", "DPE", "UPE", "DT", "DF", "RL", "UAEX", "RLSE"}

// Stream is the state of one request shared by the connection manager and
// the filters; FromContext finds it. Fields are written by the goroutine
// serving the request; Flags may be set from any goroutine.
type Stream struct {
	// Route is the route matched before the filters run (nil: none). A
	// filter that changes what routing reads (path, headers) sets it to
	// nil to have the router match again (Envoy's clearRouteCache).
	Route        Route
	Cluster      string
	UpstreamHost string
	// ClientAddr is Envoy's downstream remote address: the trusted client
	// from x-forwarded-for (xff_num_trusted_hops from its right end), else
	// the connection's peer. rbac's remote_ip and the remote_address rate
	// limit action read it; invalid outside a connection manager.
	ClientAddr netip.Addr
	flags      atomic.Uint32
	md         atomic.Pointer[Metadata] // the latest, for the access log
}

// Metadata returns the request's dynamic metadata as the filters last left
// it (request and response side), for the access log; nil when none.
func (s *Stream) Metadata() Metadata {
	if p := s.md.Load(); p != nil {
		return *p
	}
	return nil
}

// SetMetadata adds value under namespace and key; the response side of a
// filter uses it (the request's context is no longer passed on there).
func (s *Stream) SetMetadata(namespace, key string, value any) {
	for {
		old := s.md.Load()
		var cur Metadata
		if old != nil {
			cur = *old
		}
		md := with(cur, namespace, key, value)
		if s.md.CompareAndSwap(old, &md) {
			return
		}
	}
}

// SetFlag adds a response flag.
func (s *Stream) SetFlag(f Flag) {
	for {
		old := s.flags.Load()
		if s.flags.CompareAndSwap(old, old|uint32(f)) {
			return
		}
	}
}

// Flags returns the flags set so far.
func (s *Stream) Flags() Flag { return Flag(s.flags.Load()) }

// String returns the flags as Envoy prints them ("UH,UT"), or "-".
func (f Flag) String() string {
	if f == 0 {
		return "-"
	}
	var b strings.Builder
	for i, n := range flagNames {
		if f&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(n)
		}
	}
	return b.String()
}

type streamKey struct{}

// WithStream returns ctx carrying s.
func WithStream(ctx context.Context, s *Stream) context.Context {
	return context.WithValue(ctx, streamKey{}, s)
}

// FromContext returns the request's Stream, or nil outside a connection
// manager.
func FromContext(ctx context.Context) *Stream {
	s, _ := ctx.Value(streamKey{}).(*Stream)
	return s
}
