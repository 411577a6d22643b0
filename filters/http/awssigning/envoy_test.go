package awssigning_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/config/envoy"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

func envoyBootstrap(upstream, filter string) string {
	host, port, _ := net.SplitHostPort(upstream)
	return fmt.Sprintf(`
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
          - name: envoy.filters.http.aws_request_signing
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigning
%s
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: c
    load_assignment:
      cluster_name: c
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: %s, port_value: %s}}}
`, filter, host, port)
}

// TestEnvoyConfig: Envoy's AwsRequestSigning, loaded from an Envoy
// bootstrap, signs requests the upstream verifies.
func TestEnvoyConfig(t *testing.T) {
	up := startUpstream(t, map[string]string{"AKIDENVOY": "envoy-secret"})
	setEnvCreds(t, "AKIDENVOY", "envoy-secret", "")
	s := sluicetest.StartEnvoy(t, envoyBootstrap(up.addr, `
              service_name: s3
              region: us-west-2
              host_rewrite: bucket.s3.us-west-2.amazonaws.com
              use_unsigned_payload: true
              match_excluded_headers: [{prefix: x-envoy}, {exact: x-custom}]`))
	do(t, "PUT", "http://"+s.Addr("l")+"/key", strings.NewReader("data"), map[string]string{"X-Custom": "a", "X-Kept": "b"})
	got := up.last(t)
	if got.verifyErr != "" || got.host != "bucket.s3.us-west-2.amazonaws.com" || got.contentHash != "UNSIGNED-PAYLOAD" {
		t.Fatalf("verify %q host %q hash %q", got.verifyErr, got.host, got.contentHash)
	}
	if !strings.Contains(got.authz, "/us-west-2/s3/aws4_request") || strings.Contains(got.authz, "x-custom") || !strings.Contains(got.authz, "x-kept") {
		t.Fatalf("authorization %q", got.authz)
	}
}

// TestEnvoyConfigSigV4A: SigV4A, a presigned query string and a
// credential_provider load from an Envoy bootstrap and sign requests the
// upstream verifies; a provider sluice does not have is refused with its
// path.
func TestEnvoyConfigSigV4A(t *testing.T) {
	up := startUpstream(t, map[string]string{"AKIDINLINE": "inline-secret"})
	setEnvCreds(t, "AKIDENV", "env-secret", "")
	s := sluicetest.StartEnvoy(t, envoyBootstrap(up.addr, `
              service_name: s3
              region: "*"
              signing_algorithm: AWS_SIGV4A
              credential_provider:
                inline_credential: {access_key_id: AKIDINLINE, secret_access_key: inline-secret}`))
	do(t, "PUT", "http://"+s.Addr("l")+"/key", strings.NewReader("data"), nil)
	if got := up.last(t); got.verifyErr != "" || got.regionSet != "*" || !strings.Contains(got.authz, "Credential=AKIDINLINE/") {
		t.Fatalf("verify %q region set %q authz %q", got.verifyErr, got.regionSet, got.authz)
	}

	file := filepath.Join(t.TempDir(), "credentials")
	os.WriteFile(file, []byte("[ops]\naws_access_key_id = AKIDINLINE\naws_secret_access_key = inline-secret\n"), 0o600)
	s2 := sluicetest.StartEnvoy(t, envoyBootstrap(up.addr, `
              service_name: s3
              region: us-east-1
              query_string: {expiration_time: 30s}
              credential_provider:
                custom_credential_provider_chain: true
                credentials_file_provider:
                  credentials_data_source: {filename: `+file+`}
                  profile: ops`))
	do(t, "GET", "http://"+s2.Addr("l")+"/key", nil, nil)
	if got := up.last(t); got.verifyErr != "" || got.query.Get("X-Amz-Expires") != "30" || !strings.HasPrefix(got.query.Get("X-Amz-Credential"), "AKIDINLINE/") {
		t.Fatalf("verify %q query %v", got.verifyErr, got.query)
	}

	bad := filepath.Join(t.TempDir(), "envoy.yaml")
	os.WriteFile(bad, []byte(envoyBootstrap("127.0.0.1:1", `
              service_name: s3
              region: us-east-1
              credential_provider:
                iam_roles_anywhere_credential_provider: {role_arn: "arn:aws:iam::1:role/r"}`)), 0o644)
	_, _, err := envoy.Load(bad)
	if err == nil || !strings.Contains(err.Error(), "credential_provider.iam_roles_anywhere_credential_provider") {
		t.Fatalf("got %v, want an error naming iam_roles_anywhere_credential_provider", err)
	}
}

// TestEnvoyPerRoute: AwsRequestSigningPerRoute in a route's
// typed_per_filter_config, from an Envoy bootstrap, signs that route's
// requests with its own service and counts under its stat_prefix.
func TestEnvoyPerRoute(t *testing.T) {
	up := startUpstream(t, map[string]string{"AKIDENV": "env-secret"})
	setEnvCreds(t, "AKIDENV", "env-secret", "")
	boot := strings.Replace(envoyBootstrap(up.addr, `
              service_name: s3
              region: us-west-2`), `routes: [{match: {prefix: "/"}, route: {cluster: c}}]`, `routes:
              - match: {prefix: "/api"}
                route: {cluster: c}
                typed_per_filter_config:
                  envoy.filters.http.aws_request_signing:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigningPerRoute
                    stat_prefix: api.
                    aws_request_signing: {service_name: execute-api, region: eu-west-3}
              - match: {prefix: "/"}
                route: {cluster: c}`, 1)
	s := sluicetest.StartEnvoy(t, boot)
	do(t, "GET", "http://"+s.Addr("l")+"/api/items", nil, nil)
	if got := up.last(t); got.verifyErr != "" || !strings.Contains(got.authz, "/eu-west-3/execute-api/aws4_request") {
		t.Fatalf("verify %q authz %q", got.verifyErr, got.authz)
	}
	if n := s.Counter("api.aws_request_signing.signing_added"); n != 1 {
		t.Fatalf("api.aws_request_signing.signing_added %d", n)
	}
}
