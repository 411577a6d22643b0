package buffer_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

type upstream struct {
	*httptest.Server
	hits atomic.Int64
}

// startUpstream echoes how the body arrived: its Content-Length, its
// Transfer-Encoding and its size.
func startUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "cl=%d te=%v n=%d", r.ContentLength, r.TransferEncoding, len(b))
	}))
	t.Cleanup(u.Close)
	return u
}

func cfgYAML(addr, filter, routes string) string {
	if routes == "" {
		routes = `[{match: {prefix: "/"}, route: {cluster: c}}]`
	}
	return fmt.Sprintf(`
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
          http_filters:
            - buffer: %s
            - router: {}
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
`, routes, filter, addr)
}

// post sends body; chunked hides its length so that the limit is found by
// reading, not from Content-Length.
func post(t *testing.T, url, body string, chunked bool) (int, string) {
	t.Helper()
	var r io.Reader = strings.NewReader(body)
	if chunked {
		r = io.MultiReader(r) // not a *strings.Reader: the client sends it chunked
	}
	resp, err := http.Post(url, "text/plain", r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestBuffer(t *testing.T) {
	u := startUpstream(t)
	routes := `[{match: {prefix: "/free"}, route: {cluster: c}, typed_per_filter_config: {buffer: {disabled: true}}},
    {match: {prefix: "/big"}, route: {cluster: c}, typed_per_filter_config: {envoy.filters.http.buffer: {buffer: {max_request_bytes: 100000}}}},
    {match: {prefix: "/"}, route: {cluster: c}}]`
	s := sluicetest.Start(t, cfgYAML(strings.TrimPrefix(u.URL, "http://"), `{max_request_bytes: 1024}`, routes))
	base := "http://" + s.Addr("l")
	// A chunked body within the limit goes upstream whole, with a length.
	if code, body := post(t, base+"/x", strings.Repeat("a", 1024), true); code != 200 || body != "cl=1024 te=[] n=1024" {
		t.Fatalf("chunked within limit: %d %q", code, body)
	}
	// Over the limit, chunked (found by reading) or announced.
	if code, body := post(t, base+"/x", strings.Repeat("a", 1025), true); code != 413 || body != "Payload Too Large" {
		t.Fatalf("chunked over limit: %d %q", code, body)
	}
	if code, _ := post(t, base+"/x", strings.Repeat("a", 5000), false); code != 413 {
		t.Fatalf("content-length over limit: %d", code)
	}
	// Per route: disabled streams as is; a route's own bigger buffer.
	if code, body := post(t, base+"/free", strings.Repeat("a", 5000), true); code != 200 || body != "cl=-1 te=[chunked] n=5000" {
		t.Fatalf("disabled route: %d %q", code, body)
	}
	if code, body := post(t, base+"/big", strings.Repeat("a", 5000), true); code != 200 || body != "cl=5000 te=[] n=5000" {
		t.Fatalf("big route: %d %q", code, body)
	}
	if u.hits.Load() != 3 {
		t.Fatalf("upstream hits %d, want 3", u.hits.Load())
	}
}

// curl's upload over the limit is refused with 413.
func TestCurlUpload(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed (.ci/deps.sh installs it)")
	}
	u := startUpstream(t)
	s := sluicetest.Start(t, cfgYAML(strings.TrimPrefix(u.URL, "http://"), `{max_request_bytes: 10}`, ""))
	out, err := exec.Command(curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "0123456789abcdef",
		"http://"+s.Addr("l")+"/up").Output()
	if err != nil || string(out) != "413" {
		t.Fatalf("curl: %v %q", err, out)
	}
	if u.hits.Load() != 0 {
		t.Fatalf("upstream hits %d", u.hits.Load())
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ filter, want string }{
		{`{}`, "buffer.max_request_bytes: required"},
		{`{max_request_bytes: -1}`, "max_request_bytes"},
	} {
		_, err := config.Parse("test.yaml", []byte(cfgYAML("127.0.0.1:1", tc.filter, "")))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.filter, err, tc.want)
		}
	}
}
