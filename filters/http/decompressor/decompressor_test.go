package decompressor_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var text = strings.Repeat("plain text travels compressed. ", 300)

func gz(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	io.WriteString(w, s)
	w.Close()
	return b.Bytes()
}

// startUpstream: /echo answers what it received (encoding, accept-encoding,
// body); /gz answers a gzip body.
func startUpstream(t *testing.T) *httptest.Server {
	u := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/gz":
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Type", "text/plain")
			w.Write(gz(text))
		default:
			b, err := io.ReadAll(r.Body)
			if err != nil {
				w.WriteHeader(400)
				return
			}
			fmt.Fprintf(w, "ce=%q ae=%q n=%d match=%v", r.Header.Get("Content-Encoding"), r.Header.Get("Accept-Encoding"), len(b), string(b) == text)
		}
	}))
	t.Cleanup(u.Close)
	return u
}

func start(t *testing.T, u *httptest.Server) *sluicetest.Sluice {
	return sluicetest.Start(t, startConfig(u))
}

func startConfig(u *httptest.Server) string {
	return fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - http_connection_manager:
          stat_prefix: ingress
          route_config:
            virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: c}}]}]
          http_filters:
            - decompressor: {decompressor_library: {name: basic, gzip: {}}}
            - router: {}
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
`, strings.TrimPrefix(u.URL, "http://"))
}

func do(t *testing.T, req *http.Request) (int, http.Header, string) {
	t.Helper()
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestRequestAndResponse(t *testing.T) {
	u := startUpstream(t)
	s := start(t, u)
	base := "http://" + s.Addr("l")
	// A gzip upload reaches the upstream inflated; gzip is advertised.
	req, _ := http.NewRequest("POST", base+"/echo", bytes.NewReader(gz(text)))
	req.Header.Set("Content-Encoding", "gzip")
	if code, _, body := do(t, req); code != 200 || body != fmt.Sprintf(`ce="" ae="gzip" n=%d match=true`, len(text)) {
		t.Fatalf("request: %d %q", code, body)
	}
	// A gzip response reaches the client inflated.
	req, _ = http.NewRequest("GET", base+"/gz", nil)
	code, h, body := do(t, req)
	if code != 200 || body != text || h.Get("Content-Encoding") != "" {
		t.Fatalf("response: %d %v, %d bytes", code, h, len(body))
	}
	p := "http.ingress.decompressor.basic.gzip."
	for name, want := range map[string]uint64{"request.decompressed": 1, "response.decompressed": 1,
		"request.total_uncompressed_bytes": uint64(len(text)), "response.total_uncompressed_bytes": uint64(len(text)),
		"response.not_decompressed": 1} {
		if got := s.Counter(p + name); got != want {
			t.Errorf("%s%s = %d, want %d", p, name, got, want)
		}
	}
}

// TestBrotli: a body compressed by brotli(1) (Google's encoder) reaches
// the upstream inflated, br is advertised upstream, and a br response from
// the upstream reaches the client inflated.
func TestBrotli(t *testing.T) {
	br, err := exec.Command("sh", "-c", "printf %s \"$0\" | brotli -c", text).Output()
	if err != nil {
		t.Fatalf("brotli(1): %v", err)
	}
	u := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/br" {
			w.Header().Set("Content-Encoding", "br")
			w.Write(br)
			return
		}
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "ce=%q ae=%q match=%v", r.Header.Get("Content-Encoding"), r.Header.Get("Accept-Encoding"), string(b) == text)
	}))
	defer u.Close()
	s := sluicetest.Start(t, strings.Replace(startConfig(u), "gzip: {}", "brotli: {}", 1))
	base := "http://" + s.Addr("l")
	req, _ := http.NewRequest("POST", base+"/echo", bytes.NewReader(br))
	req.Header.Set("Content-Encoding", "br")
	if code, _, body := do(t, req); code != 200 || body != `ce="" ae="br" match=true` {
		t.Fatalf("request: %d %q", code, body)
	}
	req, _ = http.NewRequest("GET", base+"/br", nil)
	if code, h, body := do(t, req); code != 200 || body != text || h.Get("Content-Encoding") != "" {
		t.Fatalf("response: %d %v, %d bytes", code, h, len(body))
	}
	if got := s.Counter("http.ingress.decompressor.basic.brotli.response.decompressed"); got != 1 {
		t.Fatalf("response.decompressed = %d", got)
	}
}

// A body that claims gzip but is not never reaches the upstream whole; the
// connection fails, the process does not.
func TestBadGzipUpload(t *testing.T) {
	u := startUpstream(t)
	s := start(t, u)
	req, _ := http.NewRequest("POST", "http://"+s.Addr("l")+"/echo", strings.NewReader("this is not gzip at all"))
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 && strings.Contains(string(b), "match=") {
			t.Fatalf("upstream answered a bad gzip body: %q", b)
		}
	}
	// sluice still serves.
	req, _ = http.NewRequest("GET", "http://"+s.Addr("l")+"/gz", nil)
	if code, _, body := do(t, req); code != 200 || body != text {
		t.Fatalf("after a bad upload: %d", code)
	}
}

func TestConfigErrors(t *testing.T) {
	_, err := config.Parse("t.yaml", []byte(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - http_connection_manager:
          stat_prefix: ingress
          route_config: {virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: c}}]}]}
          http_filters: [{decompressor: {decompressor_library: {name: x}}}, {router: {}}]
clusters: [{name: c, connect_timeout: 1s, endpoints: ["127.0.0.1:1"]}]
`))
	if err == nil || !strings.Contains(err.Error(), "decompressor.decompressor_library: exactly one library is required: gzip or brotli") {
		t.Fatalf("got %v", err)
	}
}

// The Envoy loader's Decompressor, its gzip library and directions.
func TestEnvoyConfig(t *testing.T) {
	u := startUpstream(t)
	host, port, _ := strings.Cut(strings.TrimPrefix(u.URL, "http://"), ":")
	s := sluicetest.StartEnvoy(t, fmt.Sprintf(`
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
            virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: c}}]}]
          http_filters:
          - name: envoy.filters.http.decompressor
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.decompressor.v3.Decompressor
              decompressor_library:
                name: upload
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.compression.gzip.decompressor.v3.Gzip
                  window_bits: 15
              request_direction_config:
                advertise_accept_encoding: false
              response_direction_config:
                common_config:
                  enabled: {default_value: false, runtime_key: resp}
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: c
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: c
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: %s, port_value: %s}}}
`, host, port))
	req, _ := http.NewRequest("POST", "http://"+s.Addr("l")+"/echo", bytes.NewReader(gz(text)))
	req.Header.Set("Content-Encoding", "gzip")
	if code, _, body := do(t, req); code != 200 || body != fmt.Sprintf(`ce="" ae="" n=%d match=true`, len(text)) {
		t.Fatalf("request: %d %q", code, body)
	}
	// The response direction is off: the gzip body passes as is.
	req, _ = http.NewRequest("GET", "http://"+s.Addr("l")+"/gz", nil)
	if _, h, _ := do(t, req); h.Get("Content-Encoding") != "gzip" {
		t.Fatalf("response decompressed although disabled: %v", h)
	}
}
