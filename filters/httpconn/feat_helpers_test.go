package httpconn_test

import (
	"fmt"
	"testing"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// featSluice starts sluice with one http_connection_manager whose single
// virtual host "all" has routes and vhostExtra (YAML fields of the virtual
// host), hcmExtra added to the manager, and clusters (a YAML list).
func featSluice(t testing.TB, routes, vhostExtra, hcmExtra, clusters string) *sluicetest.Sluice {
	t.Helper()
	return sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - http_connection_manager:
          stat_prefix: ingress
          route_config:
            virtual_hosts:
              - name: all
                domains: ["*"]
                routes: %s
%s
%s
clusters:
%s
`, routes, indent(vhostExtra, "                "), indent(hcmExtra, "          "), indent(clusters, "  ")))
}

// plainCluster is a cluster named name over endpoints, with extra fields.
func plainCluster(name, extra string, endpoints ...string) string {
	eps := ""
	for i, e := range endpoints {
		if i > 0 {
			eps += ", "
		}
		eps += `"` + e + `"`
	}
	return fmt.Sprintf("- name: %s\n  connect_timeout: 1s\n  endpoints: [%s]\n%s", name, eps, indent(extra, "  "))
}
