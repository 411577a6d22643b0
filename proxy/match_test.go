package proxy

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/sluice-proxy/sluice/config"
)

// TestChainPickEnvoyOrder mirrors the examples of Envoy's filter_chain_match
// docs: at each level the most specific chains win, an empty criterion only
// when nothing more specific fits, and no backtracking to a less specific
// branch (only chains without a destination port are a fallback, and only
// when no chain names the connection's port).
func TestChainPickEnvoyOrder(t *testing.T) {
	ap := netip.MustParseAddrPort
	sni := func(names ...string) config.ChainMatch { return config.ChainMatch{ServerNames: names} }
	tests := []struct {
		name   string
		chains []config.ChainMatch
		dflt   bool
		facts  connFacts
		want   string // chain index, "default" or "none"
	}{
		{name: "sni exact beats wildcard and catch-all",
			chains: []config.ChainMatch{{}, sni("*.com"), sni("*.example.com"), sni("www.example.com")},
			facts:  connFacts{sni: "www.example.com"}, want: "3"},
		{name: "sni longer wildcard beats shorter",
			chains: []config.ChainMatch{{}, sni("*.com"), sni("*.example.com"), sni("www.example.com")},
			facts:  connFacts{sni: "api.example.com"}, want: "2"},
		{name: "sni shortest wildcard",
			chains: []config.ChainMatch{{}, sni("*.com"), sni("*.example.com")},
			facts:  connFacts{sni: "foo.com"}, want: "1"},
		{name: "sni none: chain without server_names",
			chains: []config.ChainMatch{{}, sni("*.com")},
			facts:  connFacts{sni: "foo.org"}, want: "0"},
		{name: "sni case-insensitive", chains: []config.ChainMatch{{}, sni("WWW.Example.com")},
			facts: connFacts{sni: "www.example.COM"}, want: "1"},
		{name: "destination port exact beats none",
			chains: []config.ChainMatch{{}, {DestinationPort: 8443}},
			facts:  connFacts{local: ap("10.0.0.1:8443")}, want: "1"},
		{name: "destination port: wrong port never matches, portless chain does",
			chains: []config.ChainMatch{{DestinationPort: 9000}, {}},
			facts:  connFacts{local: ap("10.0.0.1:8443")}, want: "1"},
		{name: "exact port present but failing below: default chain, not the portless one",
			chains: []config.ChainMatch{{DestinationPort: 8443, ServerNames: []string{"a.com"}}, {}},
			dflt:   true, facts: connFacts{local: ap("10.0.0.1:8443"), sni: "b.com"}, want: "default"},
		{name: "no backtracking: specific sni whose transport fails",
			chains: []config.ChainMatch{{ServerNames: []string{"a.com"}, TransportProtocol: "tls"}, {}},
			facts:  connFacts{sni: "a.com", transport: "raw_buffer"}, want: "none"},
		{name: "destination ip longest prefix",
			chains: []config.ChainMatch{{DestinationPrefixes: []string{"10.0.0.0/8"}}, {DestinationPrefixes: []string{"10.1.0.0/16"}}, {}},
			facts:  connFacts{local: ap("10.1.2.3:80")}, want: "1"},
		{name: "destination ip: catch-all when no prefix fits",
			chains: []config.ChainMatch{{DestinationPrefixes: []string{"10.0.0.0/8"}}, {}},
			facts:  connFacts{local: ap("192.168.0.1:80")}, want: "1"},
		{name: "transport tls exact beats empty",
			chains: []config.ChainMatch{{}, {TransportProtocol: "tls"}},
			facts:  connFacts{isTLS: true}, want: "1"},
		{name: "transport raw_buffer is the default",
			chains: []config.ChainMatch{{TransportProtocol: "tls"}, {TransportProtocol: "raw_buffer"}},
			facts:  connFacts{}, want: "1"},
		{name: "alpn: the client's first protocol that a chain lists",
			chains: []config.ChainMatch{{ApplicationProtocols: []string{"http/1.1"}}, {ApplicationProtocols: []string{"h2"}}, {}},
			facts:  connFacts{alpn: []string{"h2", "http/1.1"}}, want: "1"},
		{name: "alpn none listed: empty chain",
			chains: []config.ChainMatch{{ApplicationProtocols: []string{"h2"}}, {}},
			facts:  connFacts{alpn: []string{"http/1.1"}}, want: "1"},
		{name: "direct source beats nothing, whatever the PROXY source",
			chains: []config.ChainMatch{{DirectSourcePrefixes: []string{"127.0.0.0/8"}}, {}},
			facts:  connFacts{direct: netip.MustParseAddr("127.0.0.1"), remote: ap("203.0.113.7:1000")}, want: "0"},
		{name: "source type local",
			chains: []config.ChainMatch{{SourceType: "SAME_IP_OR_LOOPBACK"}, {SourceType: "EXTERNAL"}},
			facts:  connFacts{remote: ap("127.0.0.1:5000"), local: ap("127.0.0.1:80")}, want: "0"},
		{name: "source type external",
			chains: []config.ChainMatch{{SourceType: "SAME_IP_OR_LOOPBACK"}, {SourceType: "EXTERNAL"}},
			facts:  connFacts{remote: ap("203.0.113.7:5000"), local: ap("10.0.0.1:80")}, want: "1"},
		{name: "source type: ANY when no specific type fits",
			chains: []config.ChainMatch{{SourceType: "EXTERNAL"}, {SourceType: "ANY"}},
			facts:  connFacts{remote: ap("127.0.0.1:5000"), local: ap("127.0.0.1:80")}, want: "1"},
		{name: "source ip longest prefix (the PROXY source)",
			chains: []config.ChainMatch{{SourcePrefixes: []string{"203.0.113.0/24"}}, {SourcePrefixes: []string{"203.0.113.7"}}, {}},
			facts:  connFacts{remote: ap("203.0.113.7:5000")}, want: "1"},
		{name: "source port exact beats none",
			chains: []config.ChainMatch{{}, {SourcePorts: []int{5000, 5001}}},
			facts:  connFacts{remote: ap("203.0.113.7:5001")}, want: "1"},
		{name: "nothing fits, no default", chains: []config.ChainMatch{sni("a.com")},
			facts: connFacts{sni: "b.com"}, want: "none"},
		{name: "nothing fits, default", chains: []config.ChainMatch{sni("a.com")}, dflt: true,
			facts: connFacts{sni: "b.com"}, want: "default"},
		{name: "config order does not matter",
			chains: []config.ChainMatch{{}, {SourcePrefixes: []string{"10.0.0.0/8"}}},
			facts:  connFacts{remote: ap("10.1.1.1:1")}, want: "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := &chainSet{}
			for i := range tt.chains {
				cs.chains = append(cs.chains, &chain{name: string(rune('0' + i)), match: newChainMatch(&tt.chains[i])})
			}
			if tt.dflt {
				cs.dflt = &chain{name: "default"}
			}
			got := "none"
			if c := cs.pick(&tt.facts); c != nil {
				got = c.name
			}
			if got != tt.want {
				t.Fatalf("picked %s, want %s", got, tt.want)
			}
		})
	}
}

// BenchmarkChainPick: a listener of 20 chains (SNI, source prefixes,
// ports), one pick per new connection.
func BenchmarkChainPick(b *testing.B) {
	cs := &chainSet{}
	for i := range 20 {
		m := config.ChainMatch{ServerNames: []string{fmt.Sprintf("s%d.example.com", i)},
			SourcePrefixes: []string{fmt.Sprintf("10.%d.0.0/16", i)}}
		if i%4 == 0 {
			m.DestinationPort = 443
		}
		cs.chains = append(cs.chains, &chain{match: newChainMatch(&m)})
	}
	f := &connFacts{sni: "s13.example.com", isTLS: true, local: netip.MustParseAddrPort("10.0.0.1:8443"),
		remote: netip.MustParseAddrPort("10.13.3.4:5555"), direct: netip.MustParseAddr("10.13.3.4")}
	b.ReportAllocs()
	for b.Loop() {
		if cs.pick(f) == nil {
			b.Fatal("no chain")
		}
	}
}
