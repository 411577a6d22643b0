package thrift

import (
	"math/rand/v2"
	"strings"

	codec "github.com/sluice-proxy/sluice/codec/thrift"
	"github.com/sluice-proxy/sluice/router"
)

// route is a compiled Route; routes are immutable once built.
type route struct {
	method   *string // exact method name ("" matches any)
	service  string  // "Service:" prefix ("" matches any)
	invert   bool
	headers  []headerMatch
	cluster  string
	weighted []ClusterWeight
	total    uint64
	header   string // cluster_header
	strip    bool
	mirrors  []mirror
}

type headerMatch struct {
	name    string
	m       router.Match
	present bool
	invert  bool
}

type mirror struct {
	cluster string
	// per is the chance in a million that a call is mirrored.
	per uint32
}

func compileRoutes(rs []Route) []*route {
	out := make([]*route, 0, len(rs))
	for _, r := range rs {
		cr := &route{method: r.Match.MethodName, invert: r.Match.Invert, cluster: r.Route.Cluster,
			header: r.Route.ClusterHeader, strip: r.Route.StripServiceName}
		if s := r.Match.ServiceName; s != nil && *s != "" {
			cr.service = *s
			if !strings.HasSuffix(cr.service, ":") {
				cr.service += ":"
			}
		}
		for _, h := range r.Match.Headers {
			hm := headerMatch{name: h.Name, present: h.PresentMatch, invert: h.InvertMatch}
			switch {
			case h.StringMatch != nil:
				hm.m = h.StringMatch.Compile()
			case h.ExactMatch != nil:
				hm.m = (&router.StringMatcher{Exact: h.ExactMatch}).Compile()
			case h.PrefixMatch != "":
				hm.m = (&router.StringMatcher{Prefix: h.PrefixMatch}).Compile()
			}
			cr.headers = append(cr.headers, hm)
		}
		if w := r.Route.WeightedClusters; w != nil {
			cr.weighted = w.Clusters
			for _, c := range w.Clusters {
				cr.total += uint64(c.Weight)
			}
		}
		for _, m := range r.Route.RequestMirrorPolicies {
			per := uint32(1000000)
			if f := m.RuntimeFraction; f != nil {
				per = uint32(min(uint64(f.DefaultValue.Numerator)*1000000/uint64(denominator(f.DefaultValue.Denominator)), 1000000))
			}
			cr.mirrors = append(cr.mirrors, mirror{cluster: m.Cluster, per: per})
		}
		out = append(out, cr)
	}
	return out
}

// matches applies Envoy's RouteMatch to a call.
func (r *route) matches(m *codec.Message) bool {
	var ok bool
	if r.method != nil {
		ok = *r.method == "" || m.Name == *r.method
	} else {
		ok = r.service == "" || strings.HasPrefix(m.Name, r.service)
	}
	if r.invert {
		ok = !ok
	}
	if !ok {
		return false
	}
	for i := range r.headers {
		h := &r.headers[i]
		v, found := header(m.Headers, h.name)
		hit := found && (h.present || h.m.Match(v))
		if hit == h.invert {
			return false
		}
	}
	return true
}

// header looks a header up ignoring case, as Envoy lower-cases names.
func header(hs map[string]string, name string) (string, bool) {
	if v, ok := hs[name]; ok {
		return v, true
	}
	for k, v := range hs {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// clusterFor picks the route's cluster for m ("" when a cluster_header is
// missing).
func (r *route) clusterFor(m *codec.Message) string {
	switch {
	case r.header != "":
		v, _ := header(m.Headers, r.header)
		return v
	case len(r.weighted) > 0:
		n := rand.Uint64N(r.total)
		for _, c := range r.weighted {
			if n < uint64(c.Weight) {
				return c.Name
			}
			n -= uint64(c.Weight)
		}
	}
	return r.cluster
}

// findRoute returns the first route matching m, or nil.
func findRoute(rs []*route, m *codec.Message) *route {
	for _, r := range rs {
		if r.matches(m) {
			return r
		}
	}
	return nil
}

// stripService removes a "Service:" prefix from a method name.
func stripService(name string) string {
	if i := strings.IndexByte(name, ':'); i >= 0 {
		return name[i+1:]
	}
	return name
}
