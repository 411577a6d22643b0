package awssigning_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"go.uber.org/goleak"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// seen is what the upstream received, with its verdict on the signature.
type seen struct {
	host, authz, token, contentHash, verifyErr string
	regionSet                                  string
	query                                      url.Values
	body                                       []byte
}

// upstream is a real HTTP server that checks each request's SigV4
// signature the way AWS does: it keeps only the signed headers, signs that
// request again with the shared secret and the request's own X-Amz-Date,
// and compares.
type upstream struct {
	addr    string
	secrets map[string]string // access key id -> secret
	mu      sync.Mutex
	got     []seen
}

func startUpstream(t *testing.T, secrets map[string]string) *upstream {
	t.Helper()
	u := &upstream{secrets: secrets}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.addr = ln.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(u.serve)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return u
}

func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s := seen{host: r.Host, authz: r.Header.Get("Authorization"), token: r.Header.Get("X-Amz-Security-Token"),
		contentHash: r.Header.Get("X-Amz-Content-Sha256"), body: body, query: r.URL.Query(),
		regionSet: r.Header.Get("X-Amz-Region-Set")}
	s.verifyErr = u.verify(r, body)
	u.mu.Lock()
	u.got = append(u.got, s)
	u.mu.Unlock()
	io.WriteString(w, "ok")
}

func (u *upstream) last(t *testing.T) seen {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.got) == 0 {
		t.Fatal("upstream saw no request")
	}
	return u.got[len(u.got)-1]
}

func (u *upstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.got)
}

// verify recomputes the signature from the received request.
func (u *upstream) verify(r *http.Request, body []byte) string {
	authz := r.Header.Get("Authorization")
	switch {
	case strings.HasPrefix(authz, "AWS4-ECDSA-P256-SHA256 "):
		return u.verifyV4A(r, body)
	case r.URL.Query().Get("X-Amz-Algorithm") == "AWS4-ECDSA-P256-SHA256":
		return u.verifyV4APresigned(r)
	case r.URL.Query().Get("X-Amz-Signature") != "":
		return u.verifyPresigned(r)
	}
	var cred, signed string
	for _, part := range strings.Split(strings.TrimPrefix(authz, "AWS4-HMAC-SHA256 "), ", ") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = v
		}
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 5 {
		return "no credential scope in " + authz
	}
	secret, ok := u.secrets[scope[0]]
	if !ok {
		return "unknown access key " + scope[0]
	}
	hash := r.Header.Get("X-Amz-Content-Sha256")
	if hash != "UNSIGNED-PAYLOAD" {
		sum := sha256.Sum256(body)
		if hex.EncodeToString(sum[:]) != hash {
			return "X-Amz-Content-Sha256 is not the body's hash"
		}
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "bad X-Amz-Date"
	}
	c, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
	c.ContentLength = r.ContentLength
	for _, h := range strings.Split(signed, ";") {
		if h != "host" && h != "content-length" {
			c.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	creds := aws.Credentials{AccessKeyID: scope[0], SecretAccessKey: secret, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, c, hash, scope[3], scope[2], when); err != nil {
		return err.Error()
	}
	if c.Header.Get("Authorization") != authz {
		return fmt.Sprintf("signature mismatch:\n got %s\nwant %s", authz, c.Header.Get("Authorization"))
	}
	return ""
}

func sluiceFor(t *testing.T, upstream, filterCfg string) *sluicetest.Sluice {
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
                routes: [{match: {prefix: "/"}, route: {cluster: c}}]
          http_filters:
            - aws_request_signing: %s
            - router: {}
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
`, filterCfg, upstream))
}

func do(t *testing.T, method, url string, body io.Reader, hdr map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func setEnvCreds(t *testing.T, id, secret, token string) {
	t.Setenv("AWS_ACCESS_KEY_ID", id)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_SESSION_TOKEN", token)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true") // no instance metadata at the end of the default chain
}

const prefix = "http.ingress.aws_request_signing."

// TestSignsFromEnvironment: a POST is signed with the environment's keys,
// the body hashed, the host rewritten, excluded headers left unsigned, and
// the upstream's independent check of the signature passes.
func TestSignsFromEnvironment(t *testing.T) {
	up := startUpstream(t, map[string]string{"AKIDENV": "env-secret"})
	setEnvCreds(t, "AKIDENV", "env-secret", "session-token-1")
	s := sluiceFor(t, up.addr, `{service_name: dynamodb, region: eu-west-1, host_rewrite: dynamodb.eu-west-1.amazonaws.com,
                match_excluded_headers: [{prefix: x-skip}]}`)
	body := `{"TableName":"t"}`
	code, _ := do(t, "POST", "http://"+s.Addr("l")+"/?a=1", strings.NewReader(body), map[string]string{
		"X-Amz-Target": "DynamoDB_20120810.GetItem", "X-Forwarded-For": "10.0.0.1", "X-Skip-Me": "changes later"})
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	got := up.last(t)
	if got.verifyErr != "" {
		t.Fatal(got.verifyErr)
	}
	if got.host != "dynamodb.eu-west-1.amazonaws.com" || got.token != "session-token-1" || string(got.body) != body {
		t.Fatalf("upstream saw host %q token %q body %q", got.host, got.token, got.body)
	}
	sum := sha256.Sum256([]byte(body))
	if got.contentHash != hex.EncodeToString(sum[:]) {
		t.Fatalf("content hash %q", got.contentHash)
	}
	if !strings.Contains(got.authz, "Credential=AKIDENV/") || !strings.Contains(got.authz, "/eu-west-1/dynamodb/aws4_request") {
		t.Fatalf("authorization %q", got.authz)
	}
	if !strings.Contains(got.authz, "x-amz-target") || !strings.Contains(got.authz, "x-amz-content-sha256") ||
		strings.Contains(got.authz, "x-forwarded-for") || strings.Contains(got.authz, "x-skip-me") {
		t.Fatalf("signed headers wrong: %q", got.authz)
	}
	if s.Counter(prefix+"signing_added") != 1 || s.Counter(prefix+"payload_signing_added") != 1 || s.Counter(prefix+"signing_failed") != 0 {
		t.Fatalf("stats added %d payload %d failed %d", s.Counter(prefix+"signing_added"),
			s.Counter(prefix+"payload_signing_added"), s.Counter(prefix+"signing_failed"))
	}
}

// TestPayloadTooLarge: a body to be hashed beyond the bound is refused with
// 413 and never reaches the upstream; use_unsigned_payload streams it.
func TestPayloadTooLarge(t *testing.T) {
	up := startUpstream(t, map[string]string{"AKIDENV": "env-secret"})
	setEnvCreds(t, "AKIDENV", "env-secret", "")
	s := sluiceFor(t, up.addr, `{service_name: s3, region: us-east-1, max_payload_bytes: 1024}`)
	big := strings.Repeat("x", 4096)
	if code, _ := do(t, "PUT", "http://"+s.Addr("l")+"/bucket/key", strings.NewReader(big), nil); code != 413 {
		t.Fatalf("status %d, want 413", code)
	}
	// Chunked (no Content-Length): the bound is found while reading.
	if code, _ := do(t, "PUT", "http://"+s.Addr("l")+"/bucket/key", io.MultiReader(strings.NewReader(big)), nil); code != 413 {
		t.Fatalf("chunked: status %d, want 413", code)
	}
	if up.count() != 0 || s.Counter(prefix+"payload_signing_failed") != 2 {
		t.Fatalf("upstream hits %d, payload_signing_failed %d", up.count(), s.Counter(prefix+"payload_signing_failed"))
	}

	s2 := sluiceFor(t, up.addr, `{service_name: s3, region: us-east-1, max_payload_bytes: 1024, use_unsigned_payload: true}`)
	if code, _ := do(t, "PUT", "http://"+s2.Addr("l")+"/bucket/key", io.MultiReader(strings.NewReader(big)), nil); code != 200 {
		t.Fatalf("unsigned payload: status %d", code)
	}
	got := up.last(t)
	if got.verifyErr != "" || got.contentHash != "UNSIGNED-PAYLOAD" || len(got.body) != len(big) {
		t.Fatalf("unsigned payload: verify %q hash %q body %d bytes", got.verifyErr, got.contentHash, len(got.body))
	}
}

// TestCredentialsFileReloaded: with no keys in the environment the shared
// credentials file is used, and a rewritten file takes effect on the next
// request.
func TestCredentialsFileReloaded(t *testing.T) {
	up := startUpstream(t, map[string]string{"AKIDFILE1": "secret-1", "AKIDFILE2": "secret-2-rotated-longer"})
	setEnvCreds(t, "", "", "")
	file := filepath.Join(t.TempDir(), "credentials")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", file)
	t.Setenv("AWS_PROFILE", "proxy")
	write := func(id, secret string) {
		data := fmt.Sprintf("[default]\naws_access_key_id = WRONG\naws_secret_access_key = wrong\n\n[proxy]\naws_access_key_id = %s\naws_secret_access_key = %s\n", id, secret)
		if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := sluiceFor(t, up.addr, `{service_name: execute-api, region: us-west-2}`)

	// No credentials anywhere: sent on unsigned, counted.
	if code, _ := do(t, "GET", "http://"+s.Addr("l")+"/x", nil, nil); code != 200 || up.last(t).authz != "" {
		t.Fatalf("no credentials: status %d authz %q", code, up.last(t).authz)
	}
	if s.Counter(prefix+"signing_failed") != 1 {
		t.Fatalf("signing_failed %d", s.Counter(prefix+"signing_failed"))
	}
	write("AKIDFILE1", "secret-1")
	do(t, "GET", "http://"+s.Addr("l")+"/x", nil, nil)
	if got := up.last(t); got.verifyErr != "" || !strings.Contains(got.authz, "Credential=AKIDFILE1/") {
		t.Fatalf("file credentials: %q %s", got.authz, got.verifyErr)
	}
	write("AKIDFILE2", "secret-2-rotated-longer")
	do(t, "GET", "http://"+s.Addr("l")+"/x", nil, nil)
	if got := up.last(t); got.verifyErr != "" || !strings.Contains(got.authz, "Credential=AKIDFILE2/") {
		t.Fatalf("rotated file credentials: %q %s", got.authz, got.verifyErr)
	}
}

// TestConfigErrors: a config missing what SigV4 needs is refused with the
// field path.
func TestConfigErrors(t *testing.T) {
	_, err := config.Parse("bad.yaml", []byte(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - http_connection_manager:
          stat_prefix: ingress
          route_config: {virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: c}}]}]}
          http_filters: [{aws_request_signing: {service_name: s3, match_excluded_headers: [{}], signing_algorithm: SIGV5,
                          query_string: {expiration_time: 2h}}}, {router: {}}]
clusters: [{name: c, endpoints: ["127.0.0.1:1"]}]
`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"bad.yaml", "aws_request_signing.signing_algorithm", "aws_request_signing.match_excluded_headers[0]",
		"aws_request_signing.query_string.expiration_time"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not name %q", err, want)
		}
	}
}
