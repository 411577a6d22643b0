package router

import (
	"net"
	"net/http"

	"github.com/sluice-proxy/sluice/config"
)

// DescriptorEntry is one (key, value) of a rate limit descriptor.
type DescriptorEntry struct{ Key, Value string }

// RateLimitRequest is what the actions read besides the request.
type RateLimitRequest struct {
	// Stage selects the rate_limits entries with the same stage.
	Stage uint32
	// SourceCluster is the local service cluster ("" when none is set).
	SourceCluster string
	// Cluster is the route's upstream cluster for this request.
	Cluster string
	// RemoteAddr is the downstream remote address (the trusted client of
	// x-forwarded-for); the request's RemoteAddr host when empty.
	RemoteAddr string
}

type actionKind uint8

const (
	actSourceCluster actionKind = iota
	actDestinationCluster
	actRequestHeader
	actRemoteAddress
	actGenericKey
	actHeaderValueMatch
)

type rateLimitAction struct {
	kind        actionKind
	key, value  string
	header      string // canonical request header
	skipAbsent  bool
	expectMatch bool
	headers     HeaderMatchers
}

// rateLimit is a compiled config.RateLimit.
type rateLimit struct {
	stage   uint32
	actions []rateLimitAction
}

func compileRateLimits(l []config.RateLimit) []rateLimit {
	out := make([]rateLimit, 0, len(l))
	for _, rl := range l {
		c := rateLimit{stage: rl.Stage}
		for _, a := range rl.Actions {
			var ca rateLimitAction
			switch {
			case a.SourceCluster != nil:
				ca.kind = actSourceCluster
			case a.DestinationCluster != nil:
				ca.kind = actDestinationCluster
			case a.RequestHeaders != nil:
				ca = rateLimitAction{kind: actRequestHeader, key: a.RequestHeaders.DescriptorKey,
					header: headerKey(a.RequestHeaders.HeaderName), skipAbsent: a.RequestHeaders.SkipIfAbsent}
			case a.RemoteAddress != nil:
				ca.kind = actRemoteAddress
			case a.GenericKey != nil:
				ca = rateLimitAction{kind: actGenericKey, key: a.GenericKey.DescriptorKey, value: a.GenericKey.DescriptorValue}
				if ca.key == "" {
					ca.key = "generic_key"
				}
			case a.HeaderValueMatch != nil:
				m := a.HeaderValueMatch
				ca = rateLimitAction{kind: actHeaderValueMatch, key: m.DescriptorKey, value: m.DescriptorValue,
					expectMatch: m.ExpectMatch == nil || *m.ExpectMatch}
				if ca.key == "" {
					ca.key = "header_match"
				}
				ca.headers = CompileHeaders(m.Headers)
			}
			c.actions = append(c.actions, ca)
		}
		out = append(out, c)
	}
	return out
}

// RateLimitDescriptors returns the descriptors of the route's rate_limits
// of the given stage (its virtual host's when it has none), in order. A
// rate limit whose action cannot produce its entry (a missing header, a
// header_value_match that does not hold) gives no descriptor, as in Envoy.
func (r *Route) RateLimitDescriptors(req *http.Request, in RateLimitRequest) [][]DescriptorEntry {
	l := r.rateLimits
	if len(l) == 0 {
		l = r.vh.rateLimits
	}
	var out [][]DescriptorEntry
	for i := range l {
		if l[i].stage != in.Stage {
			continue
		}
		if d, ok := l[i].descriptor(req, in); ok && len(d) > 0 {
			out = append(out, d)
		}
	}
	return out
}

// HasRateLimits reports whether the route (or its virtual host) has any
// rate_limits, so filters skip the work for routes without.
func (r *Route) HasRateLimits() bool { return len(r.rateLimits) > 0 || len(r.vh.rateLimits) > 0 }

func (rl *rateLimit) descriptor(req *http.Request, in RateLimitRequest) ([]DescriptorEntry, bool) {
	d := make([]DescriptorEntry, 0, len(rl.actions))
	for i := range rl.actions {
		a := &rl.actions[i]
		switch a.kind {
		case actSourceCluster:
			d = append(d, DescriptorEntry{"source_cluster", in.SourceCluster})
		case actDestinationCluster:
			d = append(d, DescriptorEntry{"destination_cluster", in.Cluster})
		case actRequestHeader:
			v, ok := headerValue(req, a.header)
			if !ok {
				if a.skipAbsent {
					continue
				}
				return nil, false
			}
			d = append(d, DescriptorEntry{a.key, v})
		case actRemoteAddress:
			host := in.RemoteAddr
			if host == "" {
				h, _, err := net.SplitHostPort(req.RemoteAddr)
				if err != nil {
					return nil, false
				}
				host = h
			}
			d = append(d, DescriptorEntry{"remote_address", host})
		case actGenericKey:
			d = append(d, DescriptorEntry{a.key, a.value})
		case actHeaderValueMatch:
			if a.headers.Match(req) != a.expectMatch {
				return nil, false
			}
			d = append(d, DescriptorEntry{a.key, a.value})
		}
	}
	return d, true
}
