package tlsctx

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// k8sMount writes a Kubernetes-style secret mount: dir/..<gen>/{tls.crt,
// tls.key}, dir/..data -> ..<gen>, dir/tls.crt -> ..data/tls.crt. swap
// publishes a new generation by an atomic rename of the ..data link.
type k8sMount struct {
	t   *testing.T
	dir string
	gen int
}

func newMount(t *testing.T, l *testenv.Leaf) *k8sMount {
	m := &k8sMount{t: t, dir: t.TempDir()}
	m.swap(l)
	for _, f := range []string{"tls.crt", "tls.key"} {
		if err := os.Symlink(filepath.Join("..data", f), filepath.Join(m.dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func (m *k8sMount) swap(l *testenv.Leaf) {
	m.gen++
	g := fmt.Sprintf("..gen%d", m.gen)
	if err := os.Mkdir(filepath.Join(m.dir, g), 0o755); err != nil {
		m.t.Fatal(err)
	}
	writeFile(m.t, filepath.Join(m.dir, g), "tls.crt", l.CertPEM)
	writeFile(m.t, filepath.Join(m.dir, g), "tls.key", l.KeyPEM)
	tmp := filepath.Join(m.dir, "..data_tmp")
	if err := os.Symlink(g, tmp); err != nil {
		m.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(m.dir, "..data")); err != nil {
		m.t.Fatal(err)
	}
}

// TestRotationUnderLoad: a loop of new TLS connections runs while the
// mounted certificate is swapped twice; no handshake fails, new ones get
// the new certificate, a connection opened before the swap keeps working,
// and each rotation is counted once.
func TestRotationUnderLoad(t *testing.T) {
	ca := newCA(t, "ca")
	leaves := []*testenv.Leaf{issue(t, ca, testenv.LeafOptions{DNS: []string{"svc"}}), issue(t, ca, testenv.LeafOptions{DNS: []string{"svc"}, RSA: true}),
		issue(t, ca, testenv.LeafOptions{DNS: []string{"svc"}})}
	m := newMount(t, leaves[0])
	st, store := newStats()
	s, err := NewServer(decodeTLS(t, fmt.Sprintf(`
common_tls_context:
  tls_certificates:
    - certificate_chain: {filename: %[1]s/tls.crt}
      private_key: {filename: %[1]s/tls.key}
      watched_directory: {path: %[1]s}
`, m.dir)), Options{Path: "tls", Refresh: 20 * time.Millisecond, Stats: st})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addr, results := serveTLS(t, s, st)
	go func() {
		for range results {
		}
	}()
	cfg := &tls.Config{RootCAs: pool(ca.PEM), ServerName: "svc"}

	var seen sync.Map // serial -> true
	var failed atomic.Int64
	var lastErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				cs, err := dial(addr, cfg)
				if err != nil {
					failed.Add(1)
					lastErr.Store(err)
					continue
				}
				seen.Store(cs.PeerCertificates[0].SerialNumber.String(), true)
			}
		}()
	}
	for i, l := range leaves {
		if i > 0 {
			m.swap(l)
		}
		serial := l.Cert.SerialNumber.String()
		poll.Eventually(t, 10*time.Second, func() bool { _, ok := seen.Load(serial); return ok }, "handshakes with certificate %d", i)
	}
	close(stop)
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d handshakes failed during rotation, last: %v", n, lastErr.Load())
	}
	if got := counter(t, store, "listener.t.server_ssl_socket_factory.ssl_context_update_by_sds"); got != 2 {
		t.Fatalf("ssl_context_update_by_sds = %d, want 2", got)
	}
}
