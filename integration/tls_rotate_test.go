package integration

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// secretMount is a Kubernetes secret volume: ..<gen>/ holds the files,
// ..data links to it, tls.crt and tls.key link through ..data; publish
// swaps ..data by an atomic rename, as the kubelet does.
type secretMount struct {
	t   *testing.T
	dir string
	gen int
}

func (m *secretMount) publish(l *testenv.Leaf) {
	m.gen++
	g := fmt.Sprintf("..2026_12_07_gen%d", m.gen)
	if err := os.Mkdir(filepath.Join(m.dir, g), 0o755); err != nil {
		m.t.Fatal(err)
	}
	for name, data := range map[string][]byte{"tls.crt": l.CertPEM, "tls.key": l.KeyPEM} {
		if err := os.WriteFile(filepath.Join(m.dir, g, name), data, 0o600); err != nil {
			m.t.Fatal(err)
		}
		if m.gen == 1 {
			if err := os.Symlink(filepath.Join("..data", name), filepath.Join(m.dir, name)); err != nil {
				m.t.Fatal(err)
			}
		}
	}
	tmp := filepath.Join(m.dir, "..data_tmp")
	if err := os.Symlink(g, tmp); err != nil {
		m.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(m.dir, "..data")); err != nil {
		m.t.Fatal(err)
	}
}

// TestRotationLiveTraffic: a loop of new TLS connections (each a round
// trip through tcp_proxy to an echo server) runs while the listener's
// certificate, mounted as a Kubernetes secret, is rotated twice: no
// connection fails, new handshakes get each new certificate, a connection
// opened before the first rotation keeps working to the end, /certs shows
// the current certificate, and the rotations are counted.
func TestRotationLiveTraffic(t *testing.T) {
	ca, err := testenv.NewCA("rotation CA")
	if err != nil {
		t.Fatal(err)
	}
	var leaves []*testenv.Leaf
	for range 3 {
		l, err := ca.Issue(testenv.LeafOptions{DNS: []string{"localhost"}})
		if err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, l)
	}
	m := &secretMount{t: t, dir: t.TempDir()}
	m.publish(leaves[0])
	echo := testenv.Echo(t)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: tls
    address: 127.0.0.1:0
    filter_chains:
      - tls:
          common_tls_context:
            tls_certificates:
              - certificate_chain: {filename: %[1]s/tls.crt}
                private_key: {filename: %[1]s/tls.key}
                watched_directory: {path: %[1]s}
        filters: [{tcp_proxy: {stat_prefix: echo, cluster: echo}}]
clusters:
  - {name: echo, endpoints: ["%[2]s"]}
`, m.dir, echo.Addr()))
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.PEM)
	cfg := &tls.Config{RootCAs: roots, ServerName: "localhost"}
	roundTrip := func(c *tls.Conn, r *bufio.Reader, msg string) error {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := fmt.Fprintln(c, msg); err != nil {
			return err
		}
		got, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if got != msg+"\n" {
			return fmt.Errorf("echo %q, want %q", got, msg)
		}
		return nil
	}
	long, err := tls.Dial("tcp", s.Addr("tls"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer long.Close()
	longR := bufio.NewReader(long)
	if err := roundTrip(long, longR, "before"); err != nil {
		t.Fatal(err)
	}

	var seen sync.Map
	var ok, failed atomic.Int64
	var lastErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				c, err := tls.Dial("tcp", s.Addr("tls"), cfg)
				if err == nil {
					err = roundTrip(c, bufio.NewReader(c), fmt.Sprintf("w%d-%d", w, i))
					seen.Store(c.ConnectionState().PeerCertificates[0].SerialNumber.String(), true)
					c.Close()
				}
				if err != nil {
					failed.Add(1)
					lastErr.Store(err)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	for i, l := range leaves {
		if i > 0 {
			m.publish(l)
		}
		serial := l.Cert.SerialNumber.String()
		poll.Eventually(t, 15*time.Second, func() bool { _, ok := seen.Load(serial); return ok }, "new handshakes with certificate %d", i)
		if err := roundTrip(long, longR, fmt.Sprintf("after rotation %d", i)); err != nil {
			t.Fatalf("the connection opened before the rotations: %v", err)
		}
	}
	close(stop)
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of %d connections failed during rotation; last: %v", n, n+ok.Load(), lastErr.Load())
	}
	t.Logf("%d connections, none failed, across 2 rotations", ok.Load())
	_, body := s.AdminGet("/certs")
	if want := fmt.Sprintf(`"serial_number": "%s"`, leaves[2].Cert.SerialNumber.Text(16)); !strings.Contains(body, want) {
		t.Fatalf("/certs does not show the current certificate (%s): %s", want, body)
	}
	name := "listener." + strings.ReplaceAll(s.Addr("tls"), ":", "_") + ".server_ssl_socket_factory.ssl_context_update_by_sds"
	if got := s.Counter(name); got != 2 {
		t.Fatalf("%s = %d, want 2", name, got)
	}
}
