package proxy

import (
	"net/netip"
	"strings"

	"github.com/sluice-proxy/sluice/config"
)

// chainMatch is a chain's filter_chain_match, parsed once at build.
type chainMatch struct {
	destPort    uint16
	destPfx     []netip.Prefix
	serverNames []string // lower case; "*.x.com" kept as ".x.com"
	transport   string
	alpn        []string
	directPfx   []netip.Prefix
	sourceType  string // "", SAME_IP_OR_LOOPBACK or EXTERNAL
	srcPfx      []netip.Prefix
	srcPorts    []uint16
}

func newChainMatch(m *config.ChainMatch) chainMatch {
	cm := chainMatch{destPort: uint16(m.DestinationPort), transport: m.TransportProtocol,
		alpn: m.ApplicationProtocols, destPfx: prefixes(m.DestinationPrefixes),
		directPfx: prefixes(m.DirectSourcePrefixes), srcPfx: prefixes(m.SourcePrefixes)}
	if m.SourceType != "ANY" {
		cm.sourceType = m.SourceType
	}
	for _, n := range m.ServerNames {
		cm.serverNames = append(cm.serverNames, strings.TrimPrefix(strings.ToLower(n), "*"))
	}
	for _, p := range m.SourcePorts {
		cm.srcPorts = append(cm.srcPorts, uint16(p))
	}
	return cm
}

func prefixes(l []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range l {
		if p, err := config.ParseCIDR(s); err == nil { // validated at load
			out = append(out, p)
		}
	}
	return out
}

// connFacts is what chain matching looks at.
type connFacts struct {
	sni       string
	alpn      []string // TLS ALPN, or the protocol http_inspector detected
	isTLS     bool
	local     netip.AddrPort // after original_dst or a PROXY header
	remote    netip.AddrPort // after a PROXY header
	direct    netip.Addr     // the socket's peer
	transport string         // "tls" or "raw_buffer"
}

// pick chooses a chain as Envoy's FilterChainManager does: level by level
// in Envoy's order, keeping the most specific chains that fit the
// connection; an empty criterion is the least specific value. There is no
// backtracking: when the most specific chains of a level fail a later
// level, the default chain (or none) serves the connection, as in Envoy
// (chains without a destination port are looked at only when no chain names
// the connection's port). Overlapping chains are refused at load, so at
// most one chain is left.
func (cs *chainSet) pick(f *connFacts) *chain {
	if c := cs.pickIn(cs.chains, f); c != nil {
		return c
	}
	return cs.dflt
}

func (cs *chainSet) pickIn(all []*chain, f *connFacts) *chain {
	transport := f.transport
	if transport == "" {
		transport = "raw_buffer"
		if f.isTLS {
			transport = "tls"
		}
	}
	lf := levelFacts{connFacts: f, transport: transport, sameHost: isLocal(f)}
	// Two buffers on the stack hold the survivors of each level, so a pick
	// allocates nothing for listeners of up to 16 chains.
	var bufA, bufB [16]*chain
	cur, bufs := all, [2][]*chain{bufA[:0], bufB[:0]}
	for lv := range numLevels {
		cur = narrow(cur, bufs[lv%2][:0], lv, &lf)
		if len(cur) == 0 {
			return nil
		}
	}
	return cur[0]
}

// levelFacts are the connection's facts with what every level derives.
type levelFacts struct {
	*connFacts
	transport string
	sameHost  bool // Envoy's SAME_IP_OR_LOOPBACK
}

// Envoy's levels, in order.
const (
	lvDestPort = iota
	lvDestIP
	lvServerName
	lvTransport
	lvALPN
	lvDirectSource
	lvSourceType
	lvSourceIP
	lvSourcePort
	numLevels
)

// levelScore is how specifically chain match m fits the connection at one
// level: higher is more specific, 0 is "no criterion", negative is no fit.
func levelScore(lv int, m *chainMatch, f *levelFacts) int {
	switch lv {
	case lvDestPort:
		if m.destPort == 0 {
			return 0
		}
		return score(m.destPort == f.local.Port(), 1)
	case lvDestIP:
		return prefixScore(m.destPfx, f.local.Addr())
	case lvServerName:
		return serverNameScore(m.serverNames, f.sni)
	case lvTransport:
		if m.transport == "" {
			return 0
		}
		return score(m.transport == f.transport, 1)
	case lvALPN:
		return alpnScore(m.alpn, f.alpn)
	case lvDirectSource:
		return prefixScore(m.directPfx, f.direct)
	case lvSourceType:
		switch m.sourceType {
		case "":
			return 0
		case "SAME_IP_OR_LOOPBACK":
			return score(f.sameHost, 1)
		default:
			return score(!f.sameHost, 1)
		}
	case lvSourceIP:
		return prefixScore(m.srcPfx, f.remote.Addr())
	default: // lvSourcePort
		if len(m.srcPorts) == 0 {
			return 0
		}
		for _, p := range m.srcPorts {
			if p == f.remote.Port() {
				return 1
			}
		}
		return -1
	}
}

// narrow appends to out the chains of in with the highest non-negative
// score at level lv.
func narrow(in, out []*chain, lv int, f *levelFacts) []*chain {
	best := -1
	for _, c := range in {
		s := levelScore(lv, &c.match, f)
		switch {
		case s < 0 || s < best:
		case s > best:
			best, out = s, append(out[:0], c)
		default:
			out = append(out, c)
		}
	}
	return out
}

func score(ok bool, v int) int {
	if ok {
		return v
	}
	return -1
}

// prefixScore is the longest prefix containing a, plus one (0: no
// criterion, -1: no prefix contains a).
func prefixScore(l []netip.Prefix, a netip.Addr) int {
	if len(l) == 0 {
		return 0
	}
	best := -1
	a = a.Unmap()
	for _, p := range l {
		if p.Contains(a) && p.Bits()+1 > best {
			best = p.Bits() + 1
		}
	}
	return best
}

// serverNameScore ranks an exact name above wildcards, longer wildcards
// above shorter ones, and those above no criterion.
func serverNameScore(names []string, sni string) int {
	if len(names) == 0 {
		return 0
	}
	sni = strings.ToLower(sni)
	best := -1
	for _, n := range names {
		switch {
		case n == sni && sni != "":
			return 1 << 16
		case strings.HasPrefix(n, ".") && len(sni) > len(n) && strings.HasSuffix(sni, n):
			best = max(best, len(n))
		}
	}
	return best
}

// alpnScore: Envoy tries the client's protocols in the client's order, so
// an earlier protocol of the client's list wins.
func alpnScore(want, have []string) int {
	if len(want) == 0 {
		return 0
	}
	for i, h := range have {
		for _, w := range want {
			if w == h {
				return len(have) - i
			}
		}
	}
	return -1
}

// isLocal is Envoy's SAME_IP_OR_LOOPBACK: the client is this host.
func isLocal(f *connFacts) bool {
	r := f.remote.Addr().Unmap()
	return r.IsLoopback() || r == f.local.Addr().Unmap()
}
