package headertometadata_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// envoyBootstrap is Envoy's documented header_to_metadata example
// (x-version to envoy.lb:version, a default when missing), with rbac
// judging the metadata.
const envoyBootstrap = `
static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes: [{match: {prefix: "/"}, route: {cluster: c}}]
          http_filters:
          - name: envoy.filters.http.header_to_metadata
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.header_to_metadata.v3.Config
              request_rules:
              - header: x-version
                on_header_present: {metadata_namespace: envoy.lb, key: version, type: STRING}
                on_header_missing: {metadata_namespace: envoy.lb, key: default, value: "true", type: STRING}
                remove: true
          - name: envoy.filters.http.rbac
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
              rules:
                action: DENY
                policies:
                  old-clients:
                    permissions: [{any: true}]
                    principals: [{metadata: {filter: envoy.lb, path: [{key: version}], value: {string_match: {prefix: "0."}}}}]
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: c
    connect_timeout: 1s
    load_assignment:
      cluster_name: c
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %s}}}}]}]
`

func TestEnvoyConfig(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "v="+r.Header.Get("X-Version"))
	}))
	defer up.Close()
	s := sluicetest.StartEnvoy(t, fmt.Sprintf(envoyBootstrap, up.URL[strings.LastIndex(up.URL, ":")+1:]))
	for v, want := range map[string]string{"1.2": "200 v=", "0.9": "403 RBAC: access denied", "": "200 v="} {
		req, _ := http.NewRequest("GET", "http://"+s.Addr("l")+"/", nil)
		if v != "" {
			req.Header.Set("X-Version", v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := fmt.Sprintf("%d %s", resp.StatusCode, b); got != want {
			t.Errorf("x-version %q: %s, want %s", v, got, want)
		}
	}
}

// TestConfigErrors: bad rules are refused at load with their paths.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ rules, want string }{
		{`[{header: a, cookie: b, on_header_present: {key: k}}]`, "request_rules[0]: set exactly one of header, cookie"},
		{`[{header: a}]`, "request_rules[0]: set on_header_present or on_header_missing"},
		{`[{header: a, on_header_missing: {key: k}}]`, "request_rules[0].on_header_missing.value: required"},
		{`[{header: a, on_header_present: {key: k, type: BOOL}}]`, "request_rules[0].on_header_present.type: must be STRING, NUMBER or PROTOBUF_VALUE"},
		{`[{header: a, on_header_present: {key: k, regex_value_rewrite: {pattern: {regex: "("}, substitution: x}}}]`, "request_rules[0].on_header_present.regex_value_rewrite.pattern.regex"},
		{`[{cookie: a, remove: true, on_header_present: {key: k}}]`, "request_rules[0].remove: cannot remove a cookie"},
	} {
		cfg := fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - http_connection_manager:
          stat_prefix: s
          route_config: {virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: c}}]}]}
          http_filters:
            - header_to_metadata: {request_rules: %s}
            - router: {}
clusters: [{name: c, endpoints: ["127.0.0.1:1"]}]
`, tc.rules)
		if _, err := config.Parse("t.yaml", []byte(cfg)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.rules, err, tc.want)
		}
	}
}
