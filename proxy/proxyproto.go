package proxy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"

	proxyproto "github.com/pires/go-proxyproto"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/stats"
)

// proxyProtocolNS is the default metadata namespace of TLV rules.
const proxyProtocolNS = "envoy.filters.listener.proxy_protocol"

// maxProxyHeader bounds a PROXY header: a v2 header is 16 bytes plus at most
// 65535 of addresses and TLVs (a v1 line is at most 107 bytes).
const maxProxyHeader = 16 + 65535

// proxyProtocol is envoy.filters.listener.proxy_protocol. The header is
// parsed by github.com/pires/go-proxyproto (v1 and v2, TLVs, used by
// traefik and others, fuzzed upstream) rather than by hand; sluice keeps
// the policy: versions allowed, connections without a header, TLV rules and
// pass-through, stats.
type proxyProtocol struct {
	cfg *config.ProxyProtocolConfig
	st  proxyProtoStats
}

// proxyProtoStats are Envoy's proxy_proto.[<stat_prefix>.]* counters.
type proxyProtoStats struct {
	found, disallowed, errs [3]*stats.Counter // by version, 1 and 2
	notFoundAllowed         *stats.Counter
	notFoundDisallowed      *stats.Counter
}

func newProxyProtocol(c *config.ProxyProtocolConfig, root *stats.Scope) *proxyProtocol {
	sc := lfScope(root).Sub("proxy_proto")
	if c.StatPrefix != "" {
		sc = sc.Sub(c.StatPrefix)
	}
	p := &proxyProtocol{cfg: c}
	for v := 1; v <= 2; v++ {
		vs := sc.Sub("versions").Sub(fmt.Sprintf("v%d", v))
		p.st.found[v], p.st.disallowed[v], p.st.errs[v] = vs.Counter("found"), vs.Counter("disallowed"), vs.Counter("error")
	}
	p.st.notFoundAllowed, p.st.notFoundDisallowed = sc.Counter("not_found_allowed"), sc.Counter("not_found_disallowed")
	return p
}

// errNoProxyHeader closes a connection without a header when one is
// required.
var errNoProxyHeader = errors.New("proxy protocol header missing")

func (p *proxyProtocol) inspect(lc *lfConn) error {
	r := lc.reader()
	h, rest, ver, err := readProxyHeader(r)
	lc.buf = append(rest, r.Prefix...)
	if errors.Is(err, proxyproto.ErrNoProxyProtocol) {
		if p.cfg.AllowRequestsWithoutProxyProtocol {
			p.st.notFoundAllowed.Inc()
			return nil
		}
		p.st.notFoundDisallowed.Inc()
		return errNoProxyHeader
	}
	if err != nil {
		if isTimeout(err) {
			return err
		}
		p.st.errs[ver].Inc()
		return fmt.Errorf("proxy protocol: %w", err)
	}
	v := h.Version
	if v != 1 && v != 2 {
		return fmt.Errorf("proxy protocol: version %d", v)
	}
	if p.cfg.Disallowed(v) {
		p.st.disallowed[v].Inc()
		return fmt.Errorf("proxy protocol: version %d disallowed", v)
	}
	p.st.found[v].Inc()
	return p.apply(h, lc)
}

// apply makes the header's addresses the connection's and publishes TLVs.
func (p *proxyProtocol) apply(h *proxyproto.Header, lc *lfConn) error {
	if h.Command.IsProxy() {
		if src, dst, ok := h.TCPAddrs(); ok {
			lc.facts.remote, lc.facts.local = tcpAddrPort(src), tcpAddrPort(dst)
			lc.s.Remote, lc.s.Local = lc.facts.remote, lc.facts.local
			lc.s.Log = lc.s.Log.With("proxy_protocol_source", lc.s.Remote.String())
		}
	}
	if h.Version != 2 {
		return nil
	}
	tlvs, err := h.TLVs()
	if err != nil {
		p.st.errs[2].Inc()
		return fmt.Errorf("proxy protocol: TLVs: %w", err)
	}
	meta := map[string]map[string]any{}
	for _, t := range tlvs {
		for _, r := range p.cfg.Rules {
			if uint32(t.Type) != r.TLVType {
				continue
			}
			ns := r.OnTLVPresent.MetadataNamespace
			if ns == "" {
				ns = proxyProtocolNS
			}
			if meta[ns] == nil {
				meta[ns] = map[string]any{}
			}
			meta[ns][r.OnTLVPresent.Key] = string(t.Value)
		}
		if p.cfg.PassThroughTLVs.Includes(byte(t.Type)) {
			lc.s.ProxyTLVs = append(lc.s.ProxyTLVs, filters.ProxyTLV{Type: byte(t.Type), Value: t.Value})
		}
	}
	for ns, m := range meta {
		lc.s.SetMetadata(ns, m)
	}
	return nil
}

// readProxyHeader reads a PROXY header from r; rest is what was read
// beyond it (the client's first bytes, all of them when there is no
// header), ver the version its first byte announces.
func readProxyHeader(r io.Reader) (h *proxyproto.Header, rest []byte, ver int, err error) {
	br := bufio.NewReaderSize(io.LimitReader(r, maxProxyHeader), 512)
	first, _ := br.Peek(1)
	ver = versionOf(first)
	h, err = proxyproto.Read(br)
	b, _ := br.Peek(br.Buffered())
	return h, append([]byte(nil), b...), ver, err
}

// versionOf guesses a broken header's version from its first byte, for
// the error counter.
func versionOf(b []byte) int {
	if len(b) > 0 && b[0] == '\r' {
		return 2
	}
	return 1
}

func tcpAddrPort(a *net.TCPAddr) netip.AddrPort {
	ap := a.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
