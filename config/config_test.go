package config_test

import (
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/config"
	_ "github.com/sluice-proxy/sluice/filters/all"
)

const good = `
admin: {address: 127.0.0.1:9901}
listeners:
  - name: pg
    address: 127.0.0.1:15432
    filters:
      - tcp_proxy: {stat_prefix: pg, cluster: pg, idle_timeout: 1h}
  - name: multi
    address: 127.0.0.1:16000
    filter_chains:
      - match: {source_prefixes: [10.0.0.0/8]}
        filters: [{tcp_proxy: {stat_prefix: a, cluster: pg}}]
clusters:
  - name: pg
    type: static
    lb_policy: round_robin
    connect_timeout: 1s
    endpoints: ["127.0.0.1:5432", {address: "127.0.0.2:5432", weight: 2}]
  - name: db
    type: strict_dns
    endpoints: ["db2:5432"]
`

func TestParseGood(t *testing.T) {
	c, err := config.Parse("good.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Clusters[0].Endpoints[1]; got.Address != "127.0.0.2:5432" || got.Weight != 2 {
		t.Errorf("endpoint mapping: %+v", got)
	}
	if got := c.Clusters[0].Endpoints[0].Weight; got != 1 {
		t.Errorf("default weight %d", got)
	}
	if got := c.Clusters[1].ConnectTimeout.D().String(); got != "5s" {
		t.Errorf("default connect_timeout %s", got)
	}
	if got := c.Listeners[0].PerConnectionBufferLimitBytes; got != 1<<20 {
		t.Errorf("default listener per_connection_buffer_limit_bytes %d", got)
	}
	if got := c.Clusters[0].PerConnectionBufferLimitBytes; got != 1<<20 {
		t.Errorf("default cluster per_connection_buffer_limit_bytes %d", got)
	}
	if got := c.DrainTimeout.D().String(); got != "30s" {
		t.Errorf("default drain_timeout %s", got)
	}
	if len(c.Listeners[0].Chains()) != 1 || c.Listeners[0].Chains()[0].Filters[0].Name != "tcp_proxy" {
		t.Errorf("filters shorthand: %+v", c.Listeners[0].Chains())
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		replace [2]string
		wantErr string
	}{
		{"unknown top-level key", [2]string{"admin:", "adminn:"}, `bad.yaml: adminn: unknown field`},
		{"unknown filter key", [2]string{"idle_timeout: 1h", "idle_timeout: 1h, bogus: 1"}, `bad.yaml: listeners[0].filters[0].tcp_proxy.bogus: unknown field`},
		{"unknown filter", [2]string{"- tcp_proxy: {stat_prefix: pg,", "- tcpproxy: {stat_prefix: pg,"}, `listeners[0].filters[0].tcpproxy: unknown filter "tcpproxy"`},
		{"dangling cluster", [2]string{"cluster: pg, idle", "cluster: nope, idle"}, `listeners[0].filters[0].tcp_proxy.cluster: no such cluster "nope"`},
		{"dangling cluster in chain", [2]string{"stat_prefix: a, cluster: pg", "stat_prefix: a, cluster: x"}, `listeners[1].filter_chains[0].filters[0].tcp_proxy.cluster: no such cluster "x"`},
		{"bad listener address", [2]string{"127.0.0.1:15432", "127.0.0.1:99999"}, `listeners[0].address: invalid address "127.0.0.1:99999"`},
		{"bad endpoint address", [2]string{`"127.0.0.1:5432"`, `"127.0.0.1"`}, `clusters[0].endpoints[0].address: invalid address "127.0.0.1"`},
		{"static needs IPs", [2]string{`"127.0.0.2:5432"`, `"db9:5432"`}, `clusters[0].endpoints[1].address: a static cluster needs IP addresses`},
		{"bad duration", [2]string{"idle_timeout: 1h", "idle_timeout: 1 hour"}, `listeners[0].filters[0].tcp_proxy.idle_timeout: invalid duration "1 hour"`},
		{"negative duration", [2]string{"connect_timeout: 1s", "connect_timeout: -1s"}, `clusters[0].connect_timeout: invalid duration "-1s": must not be negative`},
		{"bad cidr", [2]string{"10.0.0.0/8", "10.0.0.0/40"}, `listeners[1].filter_chains[0].match.source_prefixes[0]: invalid CIDR`},
		{"bad weight", [2]string{"weight: 2", "weight: 0"}, `clusters[0].endpoints[1].weight: must be 1..128`},
		{"bad lb policy", [2]string{"lb_policy: round_robin", "lb_policy: fastest"}, `clusters[0].lb_policy: unknown lb_policy "fastest"`},
		{"bad cluster type", [2]string{"type: static", "type: eds2"}, `clusters[0].type: unknown cluster type "eds2"`},
		{"wrong type", [2]string{"connect_timeout: 1s", "connect_timeout: [1s]"}, `clusters[0].connect_timeout: expected a scalar value`},
		{"duplicate listener", [2]string{"name: multi", "name: pg"}, `listeners[1].name: duplicate listener name "pg"`},
		{"missing stat_prefix", [2]string{"{stat_prefix: a, cluster: pg}", "{cluster: pg}"}, `listeners[1].filter_chains[0].filters[0].tcp_proxy.stat_prefix: required`},
		{"zero buffer limit", [2]string{"address: 127.0.0.1:15432", "address: 127.0.0.1:15432\n    per_connection_buffer_limit_bytes: 0"}, `listeners[0].per_connection_buffer_limit_bytes: must be at least 65536 (64 KiB), got 0`},
		{"small cluster buffer limit", [2]string{"connect_timeout: 1s", "connect_timeout: 1s\n    per_connection_buffer_limit_bytes: 100"}, `clusters[0].per_connection_buffer_limit_bytes: must be at least 65536`},
		{"buffer limit beyond uint32", [2]string{"address: 127.0.0.1:15432", "address: 127.0.0.1:15432\n    per_connection_buffer_limit_bytes: 5000000000"}, `listeners[0].per_connection_buffer_limit_bytes`},
		{"invalid yaml", [2]string{"admin: {", "admin: {{"}, `bad.yaml: (root): invalid YAML`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(good, tc.replace[0], tc.replace[1], 1)
			if src == good {
				t.Fatalf("replacement %q not found", tc.replace[0])
			}
			_, err := config.Parse("bad.yaml", []byte(src))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error:\n%v\nwant it to contain:\n%s", err, tc.wantErr)
			}
		})
	}
}

func TestAllErrorsReportedAtOnce(t *testing.T) {
	src := strings.NewReplacer("idle_timeout: 1h", "idle_timeout: x", "127.0.0.1:16000", "nope", "cluster: pg}", "cluster: q}").Replace(good)
	_, err := config.Parse("f.yaml", []byte(src))
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 problems, got %d:\n%v", len(lines), err)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "f.yaml: listeners[") {
			t.Errorf("line %q does not start with file and path", l)
		}
	}
}
