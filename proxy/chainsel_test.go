package proxy_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// tagServer answers every connection with its name and a newline.
func tagServer(t *testing.T, name string) string {
	return serve(t, func(c net.Conn) { io.WriteString(c, name+"\n") })
}

// clientHello returns the bytes of a TLS ClientHello for sni, as
// crypto/tls's client writes them.
func clientHello(t *testing.T, sni string, alpn ...string) []byte {
	t.Helper()
	a, b := net.Pipe()
	go tls.Client(a, &tls.Config{ServerName: sni, NextProtos: alpn, InsecureSkipVerify: true}).Handshake()
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(b, hdr); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
	if _, err := io.ReadFull(b, body); err != nil {
		t.Fatal(err)
	}
	a.Close()
	b.Close()
	return append(hdr, body...)
}

// tagVia connects from src, sends first and returns the line the chosen
// upstream answers with.
func tagVia(t *testing.T, src, addr string, first []byte) string {
	t.Helper()
	c := dialFrom(t, src, addr)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if len(first) > 0 {
		c.Write(first)
	}
	l, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "closed"
	}
	return strings.TrimSpace(l)
}

// TestChainSelectionRealConnections: Envoy's most-specific match over real
// connections: an exact SNI beats a wildcard, a wildcard beats no SNI, then
// a /32 source beats a /8, whatever the config order; a connection no chain
// fits goes to default_filter_chain.
func TestChainSelectionRealConnections(t *testing.T) {
	tags := map[string]string{}
	for _, n := range []string{"src8", "src5", "sni-wild", "sni-exact", "default", "alpn-h2"} {
		tags[n] = tagServer(t, n)
	}
	chain := func(match, tag string) string {
		return fmt.Sprintf("      - match: %s\n        filters: [{tcp_proxy: {stat_prefix: %s, cluster: %s}}]\n", match, tag, tag)
	}
	var clusters strings.Builder
	for n, a := range tags {
		fmt.Fprintf(&clusters, "  - {name: %s, endpoints: [\"%s\"]}\n", n, a)
	}
	s := sluicetest.Start(t, `
listeners:
  - name: sel
    address: 127.0.0.1:0
    listener_filters: [{name: envoy.filters.listener.tls_inspector}]
    filter_chains:
`+chain("{source_prefixes: [127.0.0.0/8]}", "src8")+
		chain("{source_prefixes: [127.0.0.5/32]}", "src5")+
		chain("{server_names: [\"*.example.com\"]}", "sni-wild")+
		chain("{server_names: [www.example.com]}", "sni-exact")+
		chain("{server_names: [alpn.example.com], application_protocols: [h2]}", "alpn-h2")+`
  - name: pp
    address: 127.0.0.1:0
    listener_filters:
      - {name: envoy.filters.listener.proxy_protocol}
      - {name: envoy.filters.listener.tls_inspector}
    filter_chains:
`+chain("{server_names: [www.example.com]}", "sni-exact")+
		chain("{source_prefixes: [203.0.113.0/24]}", "src5")+
		chain("{}", "src8")+`
  - name: dflt
    address: 127.0.0.1:0
    filter_chains:
`+chain("{server_names: [only.example.com]}", "sni-exact")+`
    default_filter_chain:
      filters: [{tcp_proxy: {stat_prefix: default, cluster: default}}]
clusters:
`+clusters.String())
	addr := s.Addr("sel")
	for _, tc := range []struct {
		name, src string
		first     []byte
		want      string
	}{
		{"exact sni", "127.0.0.5", clientHello(t, "www.example.com"), "sni-exact"},
		{"wildcard sni", "127.0.0.5", clientHello(t, "api.example.com"), "sni-wild"},
		{"other sni: source /32", "127.0.0.5", clientHello(t, "other.org"), "src5"},
		{"plain text: source /32", "127.0.0.5", []byte("hello\n"), "src5"},
		{"plain text: source /8", "127.0.0.9", []byte("hello\n"), "src8"},
		{"sni and alpn", "127.0.0.9", clientHello(t, "alpn.example.com", "h2", "http/1.1"), "alpn-h2"},
		{"sni without the alpn: no backtracking to the source chains", "127.0.0.9", clientHello(t, "alpn.example.com", "http/1.1"), "closed"},
	} {
		if got := tagVia(t, tc.src, addr, tc.first); got != tc.want {
			t.Errorf("%s: chain %s, want %s", tc.name, got, tc.want)
		}
	}
	// A PROXY header and the client's first bytes in one segment: the
	// header's source picks the chain, and the ClientHello behind it too.
	hdr := "PROXY TCP4 203.0.113.7 127.0.0.1 40000 443\r\n"
	for _, tc := range []struct {
		first []byte
		want  string
	}{
		{append([]byte(hdr), clientHello(t, "www.example.com")...), "sni-exact"},
		{[]byte(hdr + "hello\n"), "src5"},
		{[]byte("PROXY TCP4 198.51.100.1 127.0.0.1 40000 443\r\nhello\n"), "src8"},
	} {
		if got := tagVia(t, "127.0.0.1", s.Addr("pp"), tc.first); got != tc.want {
			t.Errorf("behind PROXY %q: chain %s, want %s", tc.first[:20], got, tc.want)
		}
	}
	if got := tagVia(t, "127.0.0.1", s.Addr("dflt"), clientHello(t, "b.example.com")); got != "default" {
		t.Errorf("default_filter_chain: %s", got)
	}
	if got := tagVia(t, "127.0.0.1", s.Addr("dflt"), clientHello(t, "only.example.com")); got != "sni-exact" {
		t.Errorf("listener with a default chain, matching SNI: %s", got)
	}
	if n := s.Counter("tls_inspector.sni_found"); n < 7 {
		t.Errorf("tls_inspector.sni_found = %d", n)
	}
}

// TestHTTPInspectorChainSelection: http_inspector sends curl's HTTP/1.1
// and HTTP/2 prior-knowledge requests to the chains naming http/1.1 and
// h2c (plain TCP proxying to real HTTP servers), and other bytes to the
// chain without application_protocols.
func TestHTTPInspectorChainSelection(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl not installed: apt-get install curl (.ci/deps.sh)")
	}
	h1 := httpServer(t, "http1", false)
	h2c := httpServer(t, "h2c", true)
	other := serve(t, echo)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: web
    address: 127.0.0.1:0
    listener_filters:
      - name: envoy.filters.listener.http_inspector
        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector}
    filter_chains:
      - match: {application_protocols: [http/1.1, http/1.0]}
        filters: [{tcp_proxy: {stat_prefix: h1, cluster: h1}}]
      - match: {application_protocols: [h2c]}
        filters: [{tcp_proxy: {stat_prefix: h2c, cluster: h2c}}]
      - filters: [{tcp_proxy: {stat_prefix: other, cluster: other}}]
clusters:
  - {name: h1, endpoints: ["%s"]}
  - {name: h2c, endpoints: ["%s"]}
  - {name: other, endpoints: ["%s"]}
`, h1, h2c, other))
	url := "http://" + s.Addr("web") + "/"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-s", url}, "http1 HTTP/1.1"},
		{[]string{"-s", "--http1.0", url}, "http1 HTTP/1.0"},
		{[]string{"-s", "--http2-prior-knowledge", url}, "h2c HTTP/2.0"},
	} {
		out, err := exec.Command(curl, tc.args...).CombinedOutput()
		if err != nil || string(out) != tc.want {
			t.Errorf("curl %v: %q, %v; want %q", tc.args, out, err, tc.want)
		}
	}
	if got := tagVia(t, "127.0.0.1", s.Addr("web"), []byte("*1\r\n$4\r\nPING\r\n")); got != "*1" {
		t.Errorf("non-HTTP bytes: %q, want the echo", got)
	}
	for name, want := range map[string]uint64{"http_inspector.http11_found": 1, "http_inspector.http10_found": 1,
		"http_inspector.http2_found": 1, "http_inspector.http_not_found": 1} {
		s.WaitCounter(name, want, 10*time.Second)
	}
}

// httpServer serves "<name> <proto>" over plain HTTP/1.x, or over
// HTTP/2 with prior knowledge too when h2c is set.
func httpServer(t *testing.T, name string, h2c bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s", name, r.Proto)
	})}
	if h2c {
		srv.Protocols = new(http.Protocols)
		srv.Protocols.SetHTTP1(true)
		srv.Protocols.SetUnencryptedHTTP2(true)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}
