package awslambda_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/config/envoy"
	"github.com/sluice-proxy/sluice/filters/http/awslambda"
)

func bootstrap(filter string) string {
	return `
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
          - name: envoy.filters.http.aws_lambda
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.aws_lambda.v3.Config
` + filter + `
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: c
    load_assignment:
      cluster_name: c
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 1}}}
`
}

func load(t *testing.T, filter string) error {
	t.Helper()
	file := filepath.Join(t.TempDir(), "envoy.yaml")
	if err := os.WriteFile(file, []byte(bootstrap(filter)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := envoy.Load(file)
	return err
}

// TestEnvoyConfig: Envoy's aws_lambda Config loads; a bad ARN is refused
// with its Envoy path.
func TestEnvoyConfig(t *testing.T) {
	if err := load(t, `              arn: "arn:aws:lambda:us-west-2:123456789012:function:f"
              payload_passthrough: true
              invocation_mode: ASYNCHRONOUS
              credentials_profile: lambda
              credentials: {access_key_id: AKID, secret_access_key: s}`); err != nil {
		t.Fatal(err)
	}
	// Envoy's PerRouteConfig in a route's typed_per_filter_config.
	file := filepath.Join(t.TempDir(), "envoy.yaml")
	boot := strings.Replace(bootstrap(`              arn: "arn:aws:lambda:us-west-2:123456789012:function:f"`),
		`routes: [{match: {prefix: "/"}, route: {cluster: c}}]`, `routes:
              - match: {prefix: "/"}
                route: {cluster: c}
                typed_per_filter_config:
                  envoy.filters.http.aws_lambda:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.aws_lambda.v3.PerRouteConfig
                    invoke_config: {arn: "arn:aws:lambda:us-west-2:123456789012:function:g", payload_passthrough: true}`, 1)
	if err := os.WriteFile(file, []byte(boot), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := envoy.Load(file); err != nil {
		t.Fatalf("per-route config: %v", err)
	}
	err := load(t, `              arn: "not-an-arn"`)
	if err == nil || !strings.Contains(err.Error(), "arn") {
		t.Fatalf("bad arn: %v", err)
	}
	_ = awslambda.Name
}
