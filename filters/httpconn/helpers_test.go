package httpconn_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sluice-proxy/sluice/config"
	_ "github.com/sluice-proxy/sluice/filters/httpconn"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// backend is a real net/http server counting the requests it got.
type backend struct {
	*httptest.Server
	hits atomic.Int64
}

func startBackend(t testing.TB, h http.HandlerFunc) *backend {
	t.Helper()
	b := &backend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		http.NewResponseController(w).EnableFullDuplex()
		h(w, r)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *backend) addr() string { return strings.TrimPrefix(b.URL, "http://") }

// echoHandler answers with the method, path, some request headers and the
// body it read.
func echoHandler(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("X-Seen-Host", r.Host)
	w.Header().Set("X-Seen-XFF", r.Header.Get("X-Forwarded-For"))
	w.Header().Set("X-Seen-Request-Id", r.Header.Get("X-Request-Id"))
	fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.RequestURI(), body)
}

// hcmConfig is a listener with one http_connection_manager; extra is added
// to its config, routes replaces the default routes (all to cluster c).
func hcmConfig(upstream, extra, routes string) string {
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
%s
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
`, routes, indent(extra, "          "), upstream)
}

func indent(s, pre string) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := range lines {
		lines[i] = pre + lines[i]
	}
	return strings.Join(lines, "\n")
}

func startHCM(t testing.TB, upstream, extra, routes string) *sluicetest.Sluice {
	t.Helper()
	return sluicetest.Start(t, hcmConfig(upstream, extra, routes))
}

// rawExchange writes req to addr and returns everything read until the
// proxy closes the connection.
func rawExchange(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	return string(b)
}

// loadConfig parses a sluice config from a string.
func loadConfig(yaml string) (*config.Config, error) {
	return config.Parse("test.yaml", []byte(yaml))
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
