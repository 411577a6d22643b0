package awslambda_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const arn = "arn:aws:lambda:eu-west-1:123456789012:function:echo"

// frontend stands for Lambda's invoke endpoint in front of the emulator:
// the emulator serves only /2015-03-31/functions/function/invocations, so
// the frontend checks the path names a function of the test account
// (echo, or echo:live for the per-route test), records what the invocation
// carried and forwards it there. Lambda's frontend adds
// X-Amz-Function-Error: Unhandled when the runtime reported an error; the
// emulator drops that, so the frontend sets it when the emulator answers
// with the runtime's error document ({"errorMessage", "errorType"}).
type frontend struct {
	mu   sync.Mutex
	seen []http.Header
	path []string
}

func (f *frontend) last() (http.Header, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[len(f.seen)-1], f.path[len(f.path)-1]
}

func startLambda(t *testing.T) (string, *frontend) {
	t.Helper()
	fn := filepath.Join(t.TempDir(), "fn")
	if out, err := exec.Command("go", "build", "-o", fn, "./internal/echofn").CombinedOutput(); err != nil {
		t.Fatalf("building the function: %v\n%s", err, out)
	}
	rie := testenv.LambdaRIE(t, fn)
	fe := &frontend{}
	target, _ := url.Parse("http://" + rie.Addr())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fe.mu.Lock()
		fe.seen = append(fe.seen, r.Header.Clone())
		fe.path = append(fe.path, r.URL.Path)
		fe.mu.Unlock()
		if r.URL.Path != "/2015-03-31/functions/"+arn+"/invocations" && r.URL.Path != "/2015-03-31/functions/"+arn+":live/invocations" {
			http.Error(w, "no such function", 404)
			return
		}
		req, _ := http.NewRequest("POST", target.String()+"/2015-03-31/functions/function/invocations", r.Body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer resp.Body.Close()
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		out, _ := io.ReadAll(resp.Body)
		var fnErr struct {
			Message *string `json:"errorMessage"`
			Type    *string `json:"errorType"`
		}
		if json.Unmarshal(out, &fnErr) == nil && fnErr.Message != nil && fnErr.Type != nil {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), fe
}

func sluiceFor(t *testing.T, upstream, filter string) *sluicetest.Sluice {
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
          http_filters: [{aws_lambda: %s}, {router: {}}]
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
`, filter, upstream))
}

func curl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("curl", append([]string{"-sS", "-i", "--max-time", "30"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("curl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestLambdaEnvelope: curl through sluice invokes the aws-lambda-go function
// under the emulator with Envoy's envelope, signed for lambda in the ARN's
// region; the function's envelope comes back as status, headers, cookies
// and a base64-decoded body; a function error becomes a 500 with its
// message; a large binary body goes base64 both ways.
func TestLambdaEnvelope(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDLAMBDA")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	up, fe := startLambda(t)
	s := sluiceFor(t, up, fmt.Sprintf(`{arn: "%s", host_rewrite: lambda.eu-west-1.amazonaws.com}`, arn))
	base := "http://" + s.Addr("l")

	out := curl(t, "-X", "PUT", "-H", "X-Test: hello", "-H", "Content-Type: text/plain", "--data-binary", "some text", base+"/items/7?a=1&a=2&b=x")
	if !strings.HasPrefix(out, "HTTP/1.1 201") || !strings.Contains(out, "X-Fn: yes") || !strings.Contains(out, "Set-Cookie: a=1") || !strings.Contains(out, "Set-Cookie: b=2") {
		t.Fatalf("response:\n%s", out)
	}
	_, body, _ := strings.Cut(out, "\r\n\r\n")
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if got["method"] != "PUT" || got["path"] != "/items/7?a=1&a=2&b=x" || got["x-test"] != "hello" || got["body_len"] != float64(9) ||
		got["was_base64"] != false || got["query"].(map[string]any)["a"] != "2" {
		t.Fatalf("function saw %v", got)
	}
	h, path := fe.last()
	if path != "/2015-03-31/functions/"+arn+"/invocations" || h.Get("X-Amz-Invocation-Type") != "RequestResponse" ||
		!strings.Contains(h.Get("Authorization"), "Credential=AKIDLAMBDA/") || !strings.Contains(h.Get("Authorization"), "/eu-west-1/lambda/aws4_request") {
		t.Fatalf("invocation: path %q headers %v", path, h)
	}

	big := strings.Repeat("\x00\x01binary", 200000) // 1.6 MB, base64 in the envelope
	req, _ := http.NewRequest("POST", base+"/upload", strings.NewReader(big))
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || !strings.Contains(string(b), fmt.Sprintf(`"body_len":%d`, len(big))) || !strings.Contains(string(b), `"was_base64":true`) {
		t.Fatalf("large body: %d %s", resp.StatusCode, b)
	}

	out = curl(t, base+"/fail")
	if !strings.HasPrefix(out, "HTTP/1.1 500") || !strings.Contains(out, "function failed on purpose") || !strings.Contains(out, "X-Amz-Function-Error: Unhandled") {
		t.Fatalf("function error:\n%s", out)
	}
	if s.Counter("http.ingress.aws_lambda.server_error") != 1 {
		t.Fatalf("server_error %d", s.Counter("http.ingress.aws_lambda.server_error"))
	}
	// Lambda's own error (here: no such function) goes back unchanged.
	nf := sluiceFor(t, up, `{arn: "arn:aws:lambda:eu-west-1:123456789012:function:absent"}`)
	if out := curl(t, "http://"+nf.Addr("l")+"/x"); !strings.HasPrefix(out, "HTTP/1.1 404") || !strings.Contains(out, "no such function") {
		t.Fatalf("Lambda error:\n%s", out)
	}
	if nf.Counter("http.ingress.aws_lambda.server_error") != 0 {
		t.Fatalf("server_error %d for Lambda's own 404", nf.Counter("http.ingress.aws_lambda.server_error"))
	}
}

// TestLambdaPassthroughAndAsync: payload_passthrough sends the body as the
// payload and returns the function's result as is; ASYNCHRONOUS invokes
// with X-Amz-Invocation-Type: Event.
func TestLambdaPassthroughAndAsync(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDLAMBDA")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	up, fe := startLambda(t)
	s := sluiceFor(t, up, fmt.Sprintf(`{arn: "%s", payload_passthrough: true}`, arn))
	out := curl(t, "-H", "Content-Type: application/json", "--data-binary", `{"k":"v"}`, "http://"+s.Addr("l")+"/anything")
	if !strings.HasPrefix(out, "HTTP/1.1 200") || !strings.Contains(out, `"echo":{"k":"v"}`) {
		t.Fatalf("passthrough:\n%s", out)
	}

	// Inline credentials win over the environment's.
	a := sluiceFor(t, up, fmt.Sprintf(`{arn: "%s", invocation_mode: ASYNCHRONOUS,
    credentials: {access_key_id: AKIDINLINE, secret_access_key: inline-secret}}`, arn))
	curl(t, "--data-binary", `{"k":"v"}`, "http://"+a.Addr("l")+"/async")
	if h, _ := fe.last(); h.Get("X-Amz-Invocation-Type") != "Event" || !strings.Contains(h.Get("Authorization"), "Credential=AKIDINLINE/") {
		t.Fatalf("async invocation: type %q authorization %q", h.Get("X-Amz-Invocation-Type"), h.Get("Authorization"))
	}
}

// TestLambdaPerRoute: a route's typed_per_filter_config (Envoy's
// PerRouteConfig, invoke_config) invokes its own function qualifier in
// passthrough mode while the other route keeps the filter's config; every
// invocation's payload size is recorded in upstream_rq_payload_size.
func TestLambdaPerRoute(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDLAMBDA")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	up, fe := startLambda(t)
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
                  - match: {prefix: "/live"}
                    route: {cluster: c}
                    typed_per_filter_config:
                      envoy.filters.http.aws_lambda:
                        invoke_config: {arn: "%s:live", payload_passthrough: true}
                  - match: {prefix: "/"}
                    route: {cluster: c}
          http_filters: [{aws_lambda: {arn: "%s"}}, {router: {}}]
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
`, arn, arn, up))
	base := "http://" + s.Addr("l")
	out := curl(t, "-H", "Content-Type: application/json", "--data-binary", `{"k":"live"}`, base+"/live")
	if _, path := fe.last(); !strings.HasPrefix(out, "HTTP/1.1 200") || !strings.Contains(out, `"echo":{"k":"live"}`) || path != "/2015-03-31/functions/"+arn+":live/invocations" {
		t.Fatalf("per-route: path %q\n%s", path, out)
	}
	out = curl(t, "-H", "Content-Type: text/plain", "--data-binary", "hi", base+"/other")
	if _, path := fe.last(); !strings.HasPrefix(out, "HTTP/1.1 201") || path != "/2015-03-31/functions/"+arn+"/invocations" {
		t.Fatalf("filter config: path %q\n%s", path, out)
	}
	_, st := s.AdminGet("/stats?filter=aws_lambda.upstream_rq_payload_size")
	if !strings.Contains(st, "http.ingress.aws_lambda.upstream_rq_payload_size") || strings.Contains(st, "No recorded values") {
		t.Fatalf("payload size histogram:\n%s", st)
	}
}
