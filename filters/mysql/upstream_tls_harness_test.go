package mysql

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/stats"
)

// testCert is a self-signed certificate for "db.test" and 127.0.0.1, with
// its PEM files written under a test's temp dir.
type testCert struct {
	tls      tls.Certificate
	certFile string
	keyFile  string
}

func newTestCert(t testing.TB) *testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "db.test"},
		DNSNames: []string{"db.test"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	dir := t.TempDir()
	c := &testCert{certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem")}
	if err := os.WriteFile(c.certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if c.tls, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	return c
}

// terminate returns the terminate_ssl config for the certificate.
func (c *testCert) terminate() *config.TLSContext {
	return &config.TLSContext{CertificateFile: c.certFile, PrivateKeyFile: c.keyFile}
}

// miniProxy is tcp_proxy reduced to what the filter needs: per accepted
// connection, Observe, dial the upstream, WrapUpstream, and copy both ways.
type miniProxy struct {
	ln       net.Listener
	f        *Filter
	upstream string
	wg       sync.WaitGroup
	wrapErrs chan error
	active   atomic.Int32 // connections being handled
}

// startProxy serves f in front of upstream until the test ends.
func startProxy(t testing.TB, cfg *Config, upstream string) *miniProxy {
	t.Helper()
	f, err := New(cfg, &filters.Env{Stats: stats.New().Root()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() }) // terminate_ssl's context refresh
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &miniProxy{ln: ln, f: f, upstream: upstream, wrapErrs: make(chan error, 16)}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *miniProxy) addr() string { return p.ln.Addr().String() }

func (p *miniProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		p.active.Add(1)
		go func() { defer p.wg.Done(); defer p.active.Add(-1); p.handle(c.(*net.TCPConn)) }()
	}
}

func (p *miniProxy) handle(c *net.TCPConn) {
	defer c.Close()
	s := &filters.Session{}
	dc, err := p.f.Observe(s, c)
	if err != nil {
		return
	}
	raw, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return
	}
	up, err := s.WrapUpstream(context.Background(), raw)
	if err != nil {
		raw.Close()
		p.wrapErrs <- err
		return
	}
	defer up.Close()
	done := make(chan struct{})
	go func() {
		io.Copy(dc, up)
		dc.CloseWrite()
		close(done)
	}()
	if _, err := io.Copy(up, dc); err == nil {
		up.(interface{ CloseWrite() error }).CloseWrite()
	} else {
		up.Close()
		dc.Close()
	}
	<-done
}

// wirePacket is one MySQL packet as read off a connection.
type wirePacket struct {
	seq     byte
	payload []byte
}

func writePkt(w io.Writer, seq byte, payload []byte) error {
	_, err := w.Write(packet(seq, payload))
	return err
}

func readPkt(r io.Reader) (wirePacket, error) {
	b, err := readPacket(r, 1<<20)
	if err != nil {
		return wirePacket{}, err
	}
	return wirePacket{seq: b[3], payload: b[4:]}, nil
}
