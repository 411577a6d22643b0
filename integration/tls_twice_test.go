package integration

import (
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/config"
	_ "github.com/sluice-proxy/sluice/filters/all"
)

// TestUpstreamTLSTwiceRefused: postgres_proxy and mysql_proxy speak TLS to
// the server inside their protocol (upstream_ssl); a cluster of their
// chain with a tls block would wrap it in a second TLS, so the config is
// refused at load with the filter's field path. Either alone loads.
func TestUpstreamTLSTwiceRefused(t *testing.T) {
	const clusterTLS = `{common_tls_context: {}}`
	for _, c := range []struct{ name, filter, clusterTLS, wantErr string }{
		{"postgres require", `postgres_proxy: {stat_prefix: pg, upstream_ssl: require}`, clusterTLS,
			`listeners[0].filters[0].postgres_proxy.upstream_ssl: cluster "db" (at listeners[0].filters[1].tcp_proxy.cluster) has a tls block too`},
		{"postgres prefer", `postgres_proxy: {stat_prefix: pg, upstream_ssl: prefer}`, clusterTLS,
			`listeners[0].filters[0].postgres_proxy.upstream_ssl: cluster "db"`},
		{"mysql require", `mysql_proxy: {stat_prefix: my, upstream_ssl: require}`, clusterTLS,
			`listeners[0].filters[0].mysql_proxy.upstream_ssl: cluster "db"`},
		{"postgres require, plain cluster", `postgres_proxy: {stat_prefix: pg, upstream_ssl: require}`, "", ""},
		{"postgres disable, TLS cluster", `postgres_proxy: {stat_prefix: pg}`, clusterTLS, ""},
		{"mysql disable, TLS cluster", `mysql_proxy: {stat_prefix: my}`, clusterTLS, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			tlsLine := ""
			if c.clusterTLS != "" {
				tlsLine = "\n    tls: " + c.clusterTLS
			}
			src := `
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - ` + c.filter + `
      - tcp_proxy: {stat_prefix: t, cluster: db}
clusters:
  - name: db
    endpoints: ["127.0.0.1:5432"]` + tlsLine + "\n"
			_, err := config.Parse("twice.yaml", []byte(src))
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("err = %v, want it to contain %q", err, c.wantErr)
			case c.wantErr != "" && !strings.Contains(err.Error(), "twice.yaml"):
				t.Fatalf("err = %v, want the file name", err)
			}
		})
	}
}
