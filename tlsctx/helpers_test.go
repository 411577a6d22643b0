package tlsctx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/testenv"
	_ "github.com/sluice-proxy/sluice/router" // StringMatch decoding
	"github.com/sluice-proxy/sluice/stats"
)

func newCA(t testing.TB, name string) *testenv.CA {
	t.Helper()
	ca, err := testenv.NewCA(name)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func issue(t testing.TB, ca *testenv.CA, o testenv.LeafOptions) *testenv.Leaf {
	t.Helper()
	l, err := ca.Issue(o)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// decodeTLS decodes a DownstreamTlsContext written in sluice's YAML.
func decodeTLS(t testing.TB, src string) *config.TLSContext {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	errs := &config.Errors{}
	d := &config.Decoder{Errs: errs}
	var tc config.TLSContext
	d.Decode("tls", &n, &tc)
	if len(errs.List) > 0 {
		t.Fatalf("config: %v", errs)
	}
	return &tc
}

// serveTLS accepts connections on a loopback port and runs the server
// handshake on each, reporting every result; it stops with the test.
func serveTLS(t *testing.T, s *Server, st *Stats) (addr string, results <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan error, 64)
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		defer close(out)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			tc, err := s.Handshake(ctx, c, st)
			cancel()
			if err == nil {
				tc.Write([]byte("ok"))
				tc.Close()
			} else {
				c.Close()
			}
			select {
			case out <- err:
			default:
			}
		}
	}()
	return ln.Addr().String(), out
}

// dial handshakes as a client and reads the server's "ok".
func dial(addr string, cfg *tls.Config) (*tls.ConnectionState, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2)
	if _, err := io.ReadFull(c, buf); err != nil {
		return nil, fmt.Errorf("reading: %w", err)
	}
	st := c.ConnectionState()
	return &st, nil
}

func pool(pems ...[]byte) *x509.CertPool {
	p := x509.NewCertPool()
	for _, b := range pems {
		p.AppendCertsFromPEM(b)
	}
	return p
}

func newStats() (*Stats, *stats.Store) {
	st := stats.New()
	return NewStats(st.Root().Sub("listener").Tagged("envoy_listener_address", "t"), "server_ssl_socket_factory"), st
}

func counter(t *testing.T, s *stats.Store, name string) uint64 {
	t.Helper()
	v, _ := s.CounterValue(name)
	return v
}
