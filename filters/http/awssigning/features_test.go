package awssigning_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// noCredentials empties the environment's and the file's keys and turns
// instance metadata off.
func noCredentials(t *testing.T) {
	setEnvCreds(t, "", "", "")
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_SIGV4A_SIGNING_REGION_SET"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// TestInstanceProfileSigning: with no keys in the environment or a file,
// the default chain takes them from EC2 instance metadata (AWS's
// amazon-ec2-metadata-mock, IMDSv2), and the region from AWS_REGION; the
// upstream verifies the signature with the mock's secret and sees its
// session token.
func TestInstanceProfileSigning(t *testing.T) {
	noCredentials(t)
	m := testenv.IMDSMock(t, testenv.IMDSCredentials{Role: "proxy", AccessKeyID: "AKIDIMDS", SecretAccessKey: "imds-secret",
		Token: "imds-session", Expiration: time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)})
	t.Setenv("AWS_EC2_METADATA_DISABLED", "")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", m.Endpoint())
	t.Setenv("AWS_REGION", "ap-southeast-2")
	up := startUpstream(t, map[string]string{"AKIDIMDS": "imds-secret"})
	s := sluiceFor(t, up.addr, `{service_name: sqs}`)
	if code, _ := do(t, "POST", "http://"+s.Addr("l")+"/queue", strings.NewReader("Action=SendMessage"), nil); code != 200 {
		t.Fatalf("status %d", code)
	}
	got := up.last(t)
	if got.verifyErr != "" || got.token != "imds-session" || !strings.Contains(got.authz, "Credential=AKIDIMDS/") ||
		!strings.Contains(got.authz, "/ap-southeast-2/sqs/aws4_request") {
		t.Fatalf("verify %q token %q authz %q", got.verifyErr, got.token, got.authz)
	}
	if n := s.Counter("aws.metadata_credentials_provider.ec2_instance_metadata_server_internal.credential_refreshes_succeeded"); n != 1 {
		t.Fatalf("credential_refreshes_succeeded %d", n)
	}
}

// TestPerRoute: a route's AwsRequestSigningPerRoute signs with its own
// service, region and inline credentials and counts under its
// stat_prefix; the other route keeps the filter's config and stats.
func TestPerRoute(t *testing.T) {
	noCredentials(t)
	setEnvCreds(t, "AKIDENV", "env-secret", "")
	up := startUpstream(t, map[string]string{"AKIDENV": "env-secret", "AKIDROUTE": "route-secret"})
	s := sluicetest.Start(t, fmt.Sprintf(`
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
                routes:
                  - match: {prefix: "/bucket"}
                    route: {cluster: c}
                    typed_per_filter_config:
                      envoy.filters.http.aws_request_signing:
                        stat_prefix: s3route.
                        aws_request_signing:
                          service_name: s3
                          region: eu-central-1
                          use_unsigned_payload: true
                          credential_provider:
                            inline_credential: {access_key_id: AKIDROUTE, secret_access_key: route-secret}
                  - match: {prefix: "/"}
                    route: {cluster: c}
          http_filters:
            - aws_request_signing: {service_name: dynamodb, region: us-east-1}
            - router: {}
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
`, up.addr))
	do(t, "PUT", "http://"+s.Addr("l")+"/bucket/key", strings.NewReader("object"), nil)
	got := up.last(t)
	if got.verifyErr != "" || !strings.Contains(got.authz, "Credential=AKIDROUTE/") || !strings.Contains(got.authz, "/eu-central-1/s3/") || got.contentHash != "UNSIGNED-PAYLOAD" {
		t.Fatalf("route config: verify %q authz %q hash %q", got.verifyErr, got.authz, got.contentHash)
	}
	do(t, "POST", "http://"+s.Addr("l")+"/", strings.NewReader("{}"), nil)
	got = up.last(t)
	if got.verifyErr != "" || !strings.Contains(got.authz, "Credential=AKIDENV/") || !strings.Contains(got.authz, "/us-east-1/dynamodb/") {
		t.Fatalf("filter config: verify %q authz %q", got.verifyErr, got.authz)
	}
	if a, b := s.Counter("s3route.aws_request_signing.signing_added"), s.Counter(prefix+"signing_added"); a != 1 || b != 1 {
		t.Fatalf("route signing_added %d, filter signing_added %d", a, b)
	}
}

// TestPresigned: query_string puts the signature in the URL (Envoy's
// option); the upstream verifies the presigned URL with the SDK, and the
// Authorization header is not added.
func TestPresigned(t *testing.T) {
	noCredentials(t)
	setEnvCreds(t, "AKIDENV", "env-secret", "tok")
	up := startUpstream(t, map[string]string{"AKIDENV": "env-secret"})
	s := sluiceFor(t, up.addr, `{service_name: s3, region: us-west-2, use_unsigned_payload: true, query_string: {expiration_time: 60s}}`)
	if code, _ := do(t, "GET", "http://"+s.Addr("l")+"/bucket/some%20key?versionId=3", nil, map[string]string{"X-Custom": "v"}); code != 200 {
		t.Fatalf("status %d", code)
	}
	got := up.last(t)
	if got.verifyErr != "" || got.authz != "" || got.query.Get("X-Amz-Expires") != "60" || got.query.Get("versionId") != "3" ||
		got.query.Get("X-Amz-Security-Token") != "tok" || !strings.Contains(got.query.Get("X-Amz-SignedHeaders"), "x-custom") {
		t.Fatalf("verify %q authz %q query %v", got.verifyErr, got.authz, got.query)
	}
	if s.Counter(prefix+"signing_added") != 1 {
		t.Fatalf("signing_added %d", s.Counter(prefix+"signing_added"))
	}
}

// TestSigV4A: signing_algorithm AWS_SIGV4A signs for a region set with
// smithy-go's SigV4A signer, in the header and in a presigned URL; the
// upstream checks the ECDSA signature over the canonical request.
func TestSigV4A(t *testing.T) {
	noCredentials(t)
	setEnvCreds(t, "AKIDV4A", "v4a-secret", "")
	up := startUpstream(t, map[string]string{"AKIDV4A": "v4a-secret"})
	s := sluiceFor(t, up.addr, `{service_name: s3, region: "us-east-*,eu-west-1", signing_algorithm: AWS_SIGV4A, match_excluded_headers: [{exact: x-skip}]}`)
	if code, _ := do(t, "POST", "http://"+s.Addr("l")+"/mrap/key?x=1", strings.NewReader("multi-region"), map[string]string{"X-Skip": "a", "X-Kept": "b"}); code != 200 {
		t.Fatalf("status %d", code)
	}
	got := up.last(t)
	if got.verifyErr != "" || !strings.HasPrefix(got.authz, "AWS4-ECDSA-P256-SHA256 Credential=AKIDV4A/") ||
		!strings.Contains(got.authz, "x-amz-region-set") || !strings.Contains(got.authz, "x-kept") || strings.Contains(got.authz, "x-skip") {
		t.Fatalf("verify %q authz %q", got.verifyErr, got.authz)
	}
	if got.regionSet != "us-east-*,eu-west-1" {
		t.Fatalf("X-Amz-Region-Set %q", got.regionSet)
	}

	// Presigned: the region set and the signature travel in the query.
	p := sluiceFor(t, up.addr, `{service_name: s3, region: "us-east-1,us-west-2", signing_algorithm: AWS_SIGV4A, use_unsigned_payload: true,
        query_string: {expiration_time: 120s}}`)
	if code, _ := do(t, "GET", "http://"+p.Addr("l")+"/mrap/key", nil, nil); code != 200 {
		t.Fatalf("status %d", code)
	}
	got = up.last(t)
	if got.verifyErr != "" || got.authz != "" || got.query.Get("X-Amz-Region-Set") != "us-east-1,us-west-2" || got.query.Get("X-Amz-Algorithm") != "AWS4-ECDSA-P256-SHA256" {
		t.Fatalf("presigned SigV4A: verify %q authz %q query %v", got.verifyErr, got.authz, got.query)
	}
}
