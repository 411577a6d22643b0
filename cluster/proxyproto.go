package cluster

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	proxyproto "github.com/pires/go-proxyproto"

	"github.com/sluice-proxy/sluice/config"
)

// ProxySource is what an upstream PROXY protocol header says about the
// downstream connection a dial is for.
type ProxySource struct {
	Src, Dst netip.AddrPort
	// TLVs are v2 type-value pairs to pass through; the cluster's
	// pass_through_tlvs chooses which are sent.
	TLVs []ProxyTLV
}

// ProxyTLV is one PROXY protocol v2 TLV.
type ProxyTLV struct {
	Type  byte
	Value []byte
}

type proxySourceKey struct{}

// WithProxySource returns a context under which a dial to a cluster with
// upstream_proxy_protocol names ps in its header (tcp_proxy sets it).
func WithProxySource(ctx context.Context, ps ProxySource) context.Context {
	return context.WithValue(ctx, proxySourceKey{}, ps)
}

// writeProxyHeader writes the cluster's PROXY header on a new connection:
// the downstream's addresses from ctx, or a LOCAL header (v2) / "PROXY
// UNKNOWN" (v1) when the dial serves no single downstream connection. The
// header is built by github.com/pires/go-proxyproto, the library the
// listener filter parses with.
func writeProxyHeader(ctx context.Context, conn net.Conn, p *config.UpstreamProxyProtocol) error {
	ver := byte(1)
	if p.Version == "V2" {
		ver = 2
	}
	h := &proxyproto.Header{Version: ver, Command: proxyproto.LOCAL, TransportProtocol: proxyproto.UNSPEC}
	if ps, ok := ctx.Value(proxySourceKey{}).(ProxySource); ok && ps.Src.IsValid() && ps.Dst.IsValid() {
		src, dst := net.TCPAddrFromAddrPort(unmap(ps.Src)), net.TCPAddrFromAddrPort(unmap(ps.Dst))
		if src.IP.To4() == nil && dst.IP.To4() != nil || src.IP.To4() != nil && dst.IP.To4() == nil {
			// Mixed families: name both as IPv6, as the spec allows.
			src, dst = net.TCPAddrFromAddrPort(v6(ps.Src)), net.TCPAddrFromAddrPort(v6(ps.Dst))
		}
		h = proxyproto.HeaderProxyFromAddrs(ver, src, dst)
		if ver == 2 && p.PassThroughTLVs != nil {
			var tlvs []proxyproto.TLV
			for _, t := range ps.TLVs {
				if p.PassThroughTLVs.Includes(t.Type) {
					tlvs = append(tlvs, proxyproto.TLV{Type: proxyproto.PP2Type(t.Type), Value: t.Value})
				}
			}
			if err := h.SetTLVs(tlvs); err != nil {
				return fmt.Errorf("upstream proxy protocol TLVs: %w", err)
			}
		}
	} else if ver == 1 {
		h.Command = proxyproto.PROXY // v1 has no LOCAL: "PROXY UNKNOWN"
	}
	if _, err := h.WriteTo(conn); err != nil {
		return fmt.Errorf("writing the upstream proxy protocol header: %w", err)
	}
	return nil
}

func unmap(a netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()) }

func v6(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom16(a.Addr().As16()), a.Port())
}
