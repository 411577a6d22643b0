package config_test

import (
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/config"
)

// TestListenerFilterAndMatchErrors: listener filters, chain matches and
// connection policy are decoded strictly; every mistake names its path.
func TestListenerFilterAndMatchErrors(t *testing.T) {
	chains := func(lf, c0, c1 string) string {
		return `
listeners:
  - name: l
    address: 127.0.0.1:0
    listener_filters: [` + lf + `]
    filter_chains:
      - match: ` + c0 + `
        filters: [{tcp_proxy: {stat_prefix: a, cluster: c}}]
      - match: ` + c1 + `
        filters: [{tcp_proxy: {stat_prefix: b, cluster: c}}]
clusters:
  - {name: c, endpoints: ["127.0.0.1:1"], upstream_proxy_protocol: {version: V2}}
`
	}
	ok := chains("{name: envoy.filters.listener.proxy_protocol, typed_config: {rules: [{tlv_type: 5, on_tlv_present: {key: k}}]}}",
		"{server_names: [a.com]}", "{server_names: [b.com]}")
	cfg, err := config.Parse("l.yaml", []byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if pp, _ := cfg.Listeners[0].ListenerFilters[0].TypedConfig.(*config.ProxyProtocolConfig); pp == nil || pp.Rules[0].OnTLVPresent.Key != "k" {
		t.Fatalf("proxy_protocol config %+v", cfg.Listeners[0].ListenerFilters[0].TypedConfig)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"unknown listener filter", chains("{name: envoy.filters.listener.original_src}", "{}", "{server_names: [b.com]}"),
			`listeners[0].listener_filters[0].name: unknown listener filter "envoy.filters.listener.original_src"`},
		{"unknown field in typed_config", chains("{name: envoy.filters.listener.proxy_protocol, typed_config: {allow_requests_without: true}}", "{}", "{server_names: [b.com]}"),
			`listeners[0].listener_filters[0].typed_config.allow_requests_without: unknown field`},
		{"wrong @type", chains(`{name: envoy.filters.listener.tls_inspector, typed_config: {"@type": type.googleapis.com/x.Y}}`, "{}", "{server_names: [b.com]}"),
			`listeners[0].listener_filters[0].typed_config.@type: want type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector`},
		{"bad tlv type", chains("{name: envoy.filters.listener.proxy_protocol, typed_config: {rules: [{tlv_type: 300, on_tlv_present: {key: k}}]}}", "{}", "{server_names: [b.com]}"),
			`listeners[0].listener_filters[0].typed_config.rules[0].tlv_type: must be 0..255`},
		{"bad version", chains("{name: envoy.filters.listener.proxy_protocol, typed_config: {disallowed_versions: [V3]}}", "{}", "{server_names: [b.com]}"),
			`listeners[0].listener_filters[0].typed_config.disallowed_versions[0]: must be V1 or V2`},
		{"listener filter twice", chains("{name: envoy.filters.listener.tls_inspector}, {name: envoy.filters.listener.tls_inspector}", "{}", "{server_names: [b.com]}"),
			`listeners[0].listener_filters[1].name: envoy.filters.listener.tls_inspector given twice`},
		{"overlapping chains", chains("", "{server_names: [a.com, b.com]}", "{server_names: [B.com]}"),
			`listeners[0].filter_chains[1].match: overlaps filter_chains[0]`},
		{"two catch-all chains", chains("", "{}", "{}"), `listeners[0].filter_chains[1].match: overlaps filter_chains[0]`},
		{"bad source type", chains("", "{source_type: LOCAL}", "{}"), `listeners[0].filter_chains[0].match.source_type: must be ANY, SAME_IP_OR_LOOPBACK or EXTERNAL`},
		{"bad destination prefix", chains("", "{destination_prefixes: [10.0.0.0/33]}", "{}"), `listeners[0].filter_chains[0].match.destination_prefixes[0]: invalid CIDR`},
		{"bad source port", chains("", "{source_ports: [0]}", "{}"), `listeners[0].filter_chains[0].match.source_ports[0]: must be 1..65535`},
		{"bad upstream proxy version", strings.Replace(ok, "version: V2", "version: v3", 1), `clusters[0].upstream_proxy_protocol.version: must be V1 or V2`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse("l.yaml", []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
		})
	}
}
