package compressor_test

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

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

var bigText = strings.Repeat("sluice compresses this line of text. ", 200)

// startUpstream answers by path: /text a large text/plain body (with an
// ETag), /small a short one, /png an image, /encoded one already gzipped.
func startUpstream(t *testing.T) *httptest.Server {
	u := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen-Accept-Encoding", r.Header.Get("Accept-Encoding"))
		switch r.URL.Path {
		case "/text":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Etag", `"v1"`)
			io.WriteString(w, bigText)
		case "/small":
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "tiny")
		case "/png":
			w.Header().Set("Content-Type", "image/png")
			io.WriteString(w, bigText)
		case "/encoded":
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Content-Encoding", "br")
			io.WriteString(w, bigText)
		}
	}))
	t.Cleanup(u.Close)
	return u
}

func cfgYAML(addr, filter string) string {
	return cfgRoutes(addr, filter, `[{match: {prefix: "/"}, route: {cluster: c}}]`)
}

func cfgRoutes(addr, filter, routes string) string {
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
            - compressor: %s
            - router: {}
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
`, routes, filter, addr)
}

const gzipFilter = `{compressor_library: {name: text_optimized, gzip: {compression_level: BEST_SPEED}},
      response_direction_config: {remove_accept_encoding_header: true}}`

// get asks with Accept-Encoding ae and returns the response and its raw body.
func get(t *testing.T, url, ae string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if ae != "" {
		req.Header.Set("Accept-Encoding", ae)
	}
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestGzip(t *testing.T) {
	u := startUpstream(t)
	s := sluicetest.Start(t, cfgYAML(strings.TrimPrefix(u.URL, "http://"), gzipFilter))
	base := "http://" + s.Addr("l")
	resp, body := get(t, base+"/text", "br;q=1.0, gzip;q=0.8")
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Etag") != `W/"v1"` ||
		resp.Header.Get("Vary") != "Accept-Encoding" || resp.Header.Get("X-Seen-Accept-Encoding") != "" {
		t.Fatalf("headers: %v", resp.Header)
	}
	zr, err := gzip.NewReader(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || string(plain) != bigText || len(body) >= len(bigText)/4 {
		t.Fatalf("decoded %d bytes (err %v) from %d compressed", len(plain), err, len(body))
	}
	// Left alone: no Accept-Encoding, gzip refused by q=0, too small, not
	// a listed type, already encoded.
	for _, tc := range []struct{ path, ae string }{
		{"/text", ""}, {"/text", "gzip;q=0, identity"}, {"/small", "gzip"}, {"/png", "gzip"}, {"/encoded", "gzip"},
	} {
		resp, _ := get(t, base+tc.path, tc.ae)
		if resp.Header.Get("Content-Encoding") == "gzip" {
			t.Errorf("%s with %q compressed", tc.path, tc.ae)
		}
	}
	p := "http.ingress.compressor.text_optimized.gzip.response."
	for name, want := range map[string]uint64{"compressed": 1, "header_compressor_used": 4, "no_accept_header": 1, "header_identity": 1,
		"content_length_too_small": 1, "not_compressed": 5, "total_uncompressed_bytes": uint64(len(bigText)),
		"total_compressed_bytes": uint64(len(body))} {
		if got := s.Counter(p + name); got != want {
			t.Errorf("%s%s = %d, want %d", p, name, got, want)
		}
	}
}

// curl --compressed decodes what sluice sends.
func TestCurlCompressed(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed (.ci/deps.sh installs it)")
	}
	u := startUpstream(t)
	s := sluicetest.Start(t, cfgYAML(strings.TrimPrefix(u.URL, "http://"), gzipFilter))
	out, err := exec.Command(curl, "-sS", "--compressed", "-D", "/dev/stderr", "http://"+s.Addr("l")+"/text").Output()
	if err != nil || string(out) != bigText {
		t.Fatalf("curl: %v, %d bytes", err, len(out))
	}
	if s.Counter("http.ingress.compressor.text_optimized.gzip.response.compressed") != 1 {
		t.Fatal("not compressed")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ filter, want string }{
		{`{compressor_library: {name: x}}`, "exactly one library is required: gzip, zstd or brotli"},
		{`{compressor_library: {name: x, brotli: {quality: 12}}}`, "brotli.quality: must be within [0, 11]"},
		{`{compressor_library: {name: x, brotli: {window_bits: 9}}}`, "brotli.window_bits: must be within [10, 24]"},
		{`{compressor_library: {name: x, zstd: {compression_level: 23}}}`, "zstd.compression_level: must be within [1, 22]"},
		{`{compressor_library: {gzip: {}}}`, "compressor_library.name: required"},
		{`{compressor_library: {name: x, gzip: {compression_level: LEVEL_11}}}`, `unknown level "LEVEL_11"`},
	} {
		_, err := config.Parse("test.yaml", []byte(cfgYAML("127.0.0.1:1", tc.filter)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.filter, err, tc.want)
		}
	}
}

// The zstd library: Go's zstd decoder reads what sluice sends.
func TestZstd(t *testing.T) {
	u := startUpstream(t)
	s := sluicetest.Start(t, cfgYAML(strings.TrimPrefix(u.URL, "http://"),
		`{compressor_library: {name: z, zstd: {compression_level: 19}}, response_direction_config: {}}`))
	resp, body := get(t, "http://"+s.Addr("l")+"/text", "gzip;q=0.5, zstd")
	if resp.Header.Get("Content-Encoding") != "zstd" {
		t.Fatalf("headers: %v", resp.Header)
	}
	d, err := zstd.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	plain, err := io.ReadAll(d)
	if err != nil || string(plain) != bigText {
		t.Fatalf("decoded %d bytes: %v", len(plain), err)
	}
	// A gzip-only client is not served by a zstd filter.
	if resp, _ := get(t, "http://"+s.Addr("l")+"/text", "gzip"); resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("gzip-only client got %q", resp.Header.Get("Content-Encoding"))
	}
	if s.Counter("http.ingress.compressor.z.zstd.response.compressed") != 1 || s.Counter("http.ingress.compressor.z.zstd.response.header_not_valid") != 1 {
		t.Fatalf("stats: compressed %d header_not_valid %d", s.Counter("http.ingress.compressor.z.zstd.response.compressed"),
			s.Counter("http.ingress.compressor.z.zstd.response.header_not_valid"))
	}
}

// The brotli library: curl's libbrotli (Google's C decoder) reads what
// sluice sends, and a client without br is not served brotli.
func TestBrotli(t *testing.T) {
	u := startUpstream(t)
	s := sluicetest.Start(t, cfgYAML(strings.TrimPrefix(u.URL, "http://"),
		`{compressor_library: {name: b, brotli: {quality: 5, window_bits: 20}}, response_direction_config: {}}`))
	url := "http://" + s.Addr("l") + "/text"
	resp, body := get(t, url, "gzip;q=0.5, br")
	if resp.Header.Get("Content-Encoding") != "br" || len(body) >= len(bigText) {
		t.Fatalf("headers: %v, %d bytes", resp.Header, len(body))
	}
	plain, err := io.ReadAll(brotli.NewReader(bytes.NewReader(body)))
	if err != nil || string(plain) != bigText {
		t.Fatalf("decoded %d bytes: %v", len(plain), err)
	}
	out, err := exec.Command("curl", "-s", "-H", "Accept-Encoding: br", "--compressed", url).Output()
	if err != nil || string(out) != bigText {
		t.Fatalf("curl: %v, %d bytes", err, len(out))
	}
	if resp, _ := get(t, url, "gzip"); resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("gzip-only client got %q", resp.Header.Get("Content-Encoding"))
	}
	if got := s.Counter("http.ingress.compressor.b.brotli.response.compressed"); got != 2 {
		t.Fatalf("compressed = %d", got)
	}
}

// CompressorPerRoute {disabled: true} turns compression off for one route.
func TestPerRouteDisabled(t *testing.T) {
	u := startUpstream(t)
	routes := `[{match: {prefix: "/text"}, route: {cluster: c}, typed_per_filter_config: {envoy.filters.http.compressor: {disabled: true}}},
    {match: {prefix: "/"}, route: {cluster: c}}]`
	s := sluicetest.Start(t, cfgRoutes(strings.TrimPrefix(u.URL, "http://"), gzipFilter, routes))
	if resp, body := get(t, "http://"+s.Addr("l")+"/text", "gzip"); resp.Header.Get("Content-Encoding") != "" || string(body) != bigText {
		t.Fatalf("disabled route compressed: %v", resp.Header)
	}
}
