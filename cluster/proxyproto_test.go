package cluster

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"testing"

	proxyproto "github.com/pires/go-proxyproto"

	"github.com/sluice-proxy/sluice/config"
)

// TestWriteProxyHeader: what the upstream header says for each version,
// with and without a downstream, with passed-through TLVs and with mixed
// address families; read back with the parser the listener filter uses.
func TestWriteProxyHeader(t *testing.T) {
	ps := ProxySource{Src: netip.MustParseAddrPort("203.0.113.7:4000"), Dst: netip.MustParseAddrPort("10.0.0.1:443"),
		TLVs: []ProxyTLV{{Type: 0x05, Value: []byte("id-1")}, {Type: 0x20, Value: []byte{1, 0, 0, 0, 0}}}}
	only5 := &config.PassThroughTLVs{MatchType: "INCLUDE", TLVType: []uint32{5}}
	tests := []struct {
		name    string
		cfg     config.UpstreamProxyProtocol
		ctx     context.Context
		wantCmd proxyproto.ProtocolVersionAndCommand
		src     string
		tlvs    int
	}{
		{"v1", config.UpstreamProxyProtocol{}, WithProxySource(context.Background(), ps), proxyproto.PROXY, "203.0.113.7:4000", 0},
		{"v2 with one TLV passed", config.UpstreamProxyProtocol{Version: "V2", PassThroughTLVs: only5}, WithProxySource(context.Background(), ps), proxyproto.PROXY, "203.0.113.7:4000", 1},
		{"v2 without pass_through_tlvs", config.UpstreamProxyProtocol{Version: "V2"}, WithProxySource(context.Background(), ps), proxyproto.PROXY, "203.0.113.7:4000", 0},
		{"v2 no downstream: LOCAL", config.UpstreamProxyProtocol{Version: "V2"}, context.Background(), proxyproto.LOCAL, "", 0},
		{"v1 no downstream: UNKNOWN (read back as LOCAL)", config.UpstreamProxyProtocol{}, context.Background(), proxyproto.LOCAL, "", 0},
		{"mixed families", config.UpstreamProxyProtocol{Version: "V2"}, WithProxySource(context.Background(),
			ProxySource{Src: netip.MustParseAddrPort("[2001:db8::1]:5"), Dst: netip.MustParseAddrPort("10.0.0.1:443")}), proxyproto.PROXY, "[2001:db8::1]:5", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := net.Pipe()
			defer a.Close()
			defer b.Close()
			go func() { writeProxyHeader(tt.ctx, a, &tt.cfg); a.Close() }()
			h, err := proxyproto.Read(bufio.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if h.Command != tt.wantCmd {
				t.Fatalf("command %v, want %v", h.Command, tt.wantCmd)
			}
			if tt.src != "" {
				src, _, ok := h.TCPAddrs()
				if !ok || src.String() != tt.src {
					t.Fatalf("source %v, want %s", h.SourceAddr, tt.src)
				}
			} else if _, _, ok := h.TCPAddrs(); ok {
				t.Fatalf("addresses %v without a downstream", h.SourceAddr)
			}
			tlvs, _ := h.TLVs()
			if len(tlvs) != tt.tlvs {
				t.Fatalf("TLVs %v, want %d", tlvs, tt.tlvs)
			}
		})
	}
}
