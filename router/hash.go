package router

import (
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/sluice-proxy/sluice/config"
)

type hashSource uint8

const (
	hashHeader hashSource = iota
	hashCookie
	hashSourceIP
	hashQuery
)

type hashPolicy struct {
	src      hashSource
	name     string
	terminal bool
}

func compileHash(h config.HashPolicy) hashPolicy {
	p := hashPolicy{terminal: h.Terminal}
	switch {
	case h.Header != nil:
		p.src, p.name = hashHeader, headerKey(h.Header.HeaderName)
	case h.Cookie != nil:
		p.src, p.name = hashCookie, h.Cookie.Name
	case h.ConnectionProperties != nil && h.ConnectionProperties.SourceIP:
		p.src = hashSourceIP
	case h.ConnectionProperties != nil:
		p.src = 255 // source_ip: false produces no hash
	case h.QueryParameter != nil:
		p.src, p.name = hashQuery, h.QueryParameter.Name
	}
	return p
}

// HashKey computes the request's hash for ring_hash and maglev from the
// route's hash_policy list, as Envoy's HashPolicyImpl does: each policy
// that yields a value is hashed with xxHash64 (seed 0) and folded into the
// running hash (rotate left one bit, then XOR); a terminal policy ends the
// list once there is a hash. ok is false when no policy yielded. remote is the
// downstream peer (for source_ip).
// HasHashPolicy reports whether the route has a hash_policy (HashKey
// then needs the client's address).
func (r *Route) HasHashPolicy() bool { return len(r.hashes) > 0 }

func (r *Route) HashKey(req *http.Request, remote net.Addr) (uint64, bool) {
	var h uint64
	ok := false
	for i := range r.hashes {
		p := &r.hashes[i]
		if n, yes := p.hash(req, remote); yes {
			h, ok = (h<<1|h>>63)^n, true
		}
		// Envoy stops at a terminal policy once any hash exists, its own
		// or an earlier one's.
		if p.terminal && ok {
			break
		}
	}
	return h, ok
}

func (p *hashPolicy) hash(req *http.Request, remote net.Addr) (uint64, bool) {
	switch p.src {
	case hashHeader:
		return hashHeaderValues(req, p.name)
	case hashCookie:
		c, err := req.Cookie(p.name)
		if err != nil || c.Value == "" {
			return 0, false
		}
		return xxhash.Sum64String(c.Value), true
	case hashSourceIP:
		if ip := remoteIP(remote); ip != "" {
			return xxhash.Sum64String(ip), true
		}
	case hashQuery:
		if v, ok := queryValue(req.URL.RawQuery, p.name); ok {
			return xxhash.Sum64String(v), true
		}
	}
	return 0, false
}

// hashHeaderValues hashes every value of the header as Envoy does: sorted
// (so that their order does not matter), then xxHash64 over them one
// after the other.
func hashHeaderValues(req *http.Request, name string) (uint64, bool) {
	var vs []string
	if strings.HasPrefix(name, ":") {
		v, ok := headerValue(req, name)
		if !ok {
			return 0, false
		}
		vs = []string{v}
	} else {
		vs = req.Header[name]
	}
	switch len(vs) {
	case 0:
		return 0, false
	case 1:
		return xxhash.Sum64String(vs[0]), true
	}
	vs = slices.Clone(vs)
	slices.Sort(vs)
	d := xxhash.New()
	for _, v := range vs {
		d.WriteString(v)
	}
	return d.Sum64(), true
}

// queryValue returns the first value of name in the raw query, as
// written: Envoy's QueryParameterHashMethod hashes it undecoded.
func queryValue(raw, name string) (string, bool) {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v, true
		}
	}
	return "", false
}

// remoteIP returns the textual IP of addr ("" when it has none), as Envoy
// hashes addressAsString.
func remoteIP(addr net.Addr) string {
	switch a := addr.(type) {
	case *net.TCPAddr:
		return a.IP.String()
	case *net.UDPAddr:
		return a.IP.String()
	case nil:
		return ""
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return ""
	}
	return host
}
