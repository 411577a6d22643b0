package router

import (
	"net"
	"net/http"
	"net/url"
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
// running hash (rotate left one bit, then XOR); a terminal policy that
// yielded ends the list. ok is false when no policy yielded. remote is the
// downstream peer (for source_ip).
func (r *Route) HashKey(req *http.Request, remote net.Addr) (uint64, bool) {
	var h uint64
	ok := false
	for i := range r.hashes {
		p := &r.hashes[i]
		v, yes := p.value(req, remote)
		if !yes {
			continue
		}
		n := xxhash.Sum64String(v)
		if ok {
			h = (h<<1 | h>>63) ^ n
		} else {
			h, ok = n, true
		}
		if p.terminal {
			break
		}
	}
	return h, ok
}

func (p *hashPolicy) value(req *http.Request, remote net.Addr) (string, bool) {
	switch p.src {
	case hashHeader:
		v, ok := headerValue(req, p.name)
		return v, ok
	case hashCookie:
		c, err := req.Cookie(p.name)
		if err != nil {
			return "", false
		}
		return c.Value, true
	case hashSourceIP:
		ip := remoteIP(remote)
		if ip == "" {
			return "", false
		}
		return ip, true
	case hashQuery:
		return queryValue(req.URL.RawQuery, p.name)
	}
	return "", false
}

// queryValue returns the first value of name in the raw query, decoded.
func queryValue(raw, name string) (string, bool) {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if k == name {
			if dv, err := url.QueryUnescape(v); err == nil {
				v = dv
			}
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
