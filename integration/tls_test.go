package integration

import (
	"bufio"
	"cmp"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// pki is a CA with a server certificate for localhost/127.0.0.1 and client
// certificates: good, expired, from another CA, with the wrong SAN.
type pki struct {
	dir             string
	ca              *testenv.CA
	caFile          string
	srvCert, srvKey string
	clients         map[string][2]string // name -> cert, key files
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir(), clients: map[string][2]string{}}
	var err error
	if p.ca, err = testenv.NewCA("sluice test CA"); err != nil {
		t.Fatal(err)
	}
	other, err := testenv.NewCA("other CA")
	if err != nil {
		t.Fatal(err)
	}
	p.caFile = filepath.Join(p.dir, "ca.pem")
	if err := os.WriteFile(p.caFile, p.ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(ca *testenv.CA, name string, o testenv.LeafOptions) (string, string) {
		l, err := ca.Issue(o)
		if err != nil {
			t.Fatal(err)
		}
		c, k, err := l.Write(p.dir, name)
		if err != nil {
			t.Fatal(err)
		}
		return c, k
	}
	p.srvCert, p.srvKey = write(p.ca, "server", testenv.LeafOptions{CommonName: "localhost", DNS: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	app := "spiffe://sluice.test/ns/shop/sa/app"
	for name, l := range map[string]struct {
		ca *testenv.CA
		o  testenv.LeafOptions
	}{
		"good":      {p.ca, testenv.LeafOptions{CommonName: "app", URIs: []string{app}, DNS: []string{"app.shop"}}},
		"expired":   {p.ca, testenv.LeafOptions{URIs: []string{app}, NotBefore: time.Now().Add(-72 * time.Hour), NotAfter: time.Now().Add(-48 * time.Hour)}},
		"wrong-ca":  {other, testenv.LeafOptions{URIs: []string{app}}},
		"wrong-san": {p.ca, testenv.LeafOptions{URIs: []string{"spiffe://sluice.test/ns/other/sa/intruder"}}},
	} {
		c, k := write(l.ca, name, l.o)
		p.clients[name] = [2]string{c, k}
	}
	return p
}

// mtlsChain is a filter chain terminating mTLS for the shop namespace.
func (p *pki) mtlsChain(filters string) string {
	return fmt.Sprintf(`      - tls:
          require_client_certificate: true
          common_tls_context:
            tls_certificates: [{certificate_chain: {filename: %s}, private_key: {filename: %s}}]
            validation_context:
              trusted_ca: {filename: %s}
              match_typed_subject_alt_names: [{san_type: URI, matcher: {prefix: "spiffe://sluice.test/ns/shop/"}}]
        filters: %s
`, p.srvCert, p.srvKey, p.caFile, filters)
}

// TestMTLSCurl: curl --cert/--key/--cacert through an mTLS listener to an
// HTTP server behind tcp_proxy: the good certificate gets the page; a
// missing, expired, wrong-CA or wrong-SAN one is refused, counted in its
// ssl.* counter, and its reason is in the access log.
func TestMTLSCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is not installed (.ci/deps.sh installs it)")
	}
	p := newPKI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello from upstream") })}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	alog := filepath.Join(t.TempDir(), "access.log")
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: web
    address: 127.0.0.1:0
    access_log: {path: %s}
    filter_chains:
%s
clusters:
  - {name: web, endpoints: ["%s"]}
`, alog, p.mtlsChain("[{tcp_proxy: {stat_prefix: web, cluster: web}}]"), ln.Addr()))
	_, port, _ := net.SplitHostPort(s.Addr("web"))
	ssl := "listener." + strings.ReplaceAll(s.Addr("web"), ":", "_") + ".ssl."
	curl := func(client string) (string, error) {
		args := []string{"-sS", "--max-time", "10", "--cacert", p.caFile}
		if client != "" {
			args = append(args, "--cert", p.clients[client][0], "--key", p.clients[client][1])
		}
		out, err := exec.Command("curl", append(args, "https://localhost:"+port+"/")...).CombinedOutput()
		return string(out), err
	}
	if out, err := curl("good"); err != nil || out != "hello from upstream" {
		t.Fatalf("good certificate: %v %q", err, out)
	}
	s.WaitCounter(ssl+"handshake", 1, 5*time.Second)
	s.WaitCounter(ssl+"versions.TLSv1.3", 1, 5*time.Second)
	for _, tc := range []struct{ client, counter, reason string }{
		{"", "fail_verify_no_cert", "sent no certificate"},
		{"expired", "fail_verify_error", "expired"},
		{"wrong-ca", "fail_verify_error", "unknown authority"},
		{"wrong-san", "fail_verify_san", "spiffe://sluice.test/ns/other/sa/intruder"},
	} {
		t.Run("refused "+cmp.Or(tc.client, "missing"), func(t *testing.T) {
			before := s.Counter(ssl + tc.counter)
			if out, err := curl(tc.client); err == nil {
				t.Fatalf("curl succeeded: %q", out)
			}
			s.WaitCounter(ssl+tc.counter, before+1, 5*time.Second)
			poll.Eventually(t, 5*time.Second, func() bool {
				b, _ := os.ReadFile(alog)
				return strings.Contains(string(b), tc.reason)
			}, "access log line with %q", tc.reason)
		})
	}
}

// TestMTLSOpenSSL: openssl s_client with a client certificate reaches an
// echo server through the mTLS listener; the session shows TLSv1.3 and
// the server's certificate verifies against the CA.
func TestMTLSOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl is not installed")
	}
	p := newPKI(t)
	echo := testenv.Echo(t)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: echo
    address: 127.0.0.1:0
    filter_chains:
%s
clusters:
  - {name: echo, endpoints: ["%s"]}
`, p.mtlsChain("[{tcp_proxy: {stat_prefix: echo, cluster: echo}}]"), echo.Addr()))
	cmd := exec.Command("openssl", "s_client", "-connect", s.Addr("echo"), "-servername", "localhost",
		"-CAfile", p.caFile, "-verify_return_error", "-cert", p.clients["good"][0], "-key", p.clients["good"][1], "-quiet", "-no_ign_eof")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	fmt.Fprintln(in, "ping through openssl")
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		if l != "ping through openssl\n" {
			t.Fatalf("echo %q", l)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no echo through openssl s_client")
	}
	in.Close()
	cmd.Wait()
}
