package tlsctx

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/testenv"
)

// FuzzParseSecrets feeds SDS files to the DiscoveryResponse reader; it
// must return an error, never panic. Seeded with a real secrets file.
func FuzzParseSecrets(f *testing.F) {
	ca := newCA(f, "ca")
	path := filepath.Join(f.TempDir(), "sds.yaml")
	sdsFile(f, path, issue(f, ca, testenv.LeafOptions{DNS: []string{"svc"}}), ca.PEM)
	seed, _ := os.ReadFile(path)
	f.Add(seed)
	f.Add([]byte(`{"resources":[{"@type":"type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret","name":"x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseSecrets(data)
	})
}

// FuzzServerHandshake sends arbitrary bytes as a ClientHello to a server
// context; the handshake fails or succeeds, never panics or hangs past
// its deadline. Seeded with a real ClientHello from crypto/tls.
func FuzzServerHandshake(f *testing.F) {
	cf, kf, err := issue(f, newCA(f, "ca"), testenv.LeafOptions{DNS: []string{"svc"}}).Write(f.TempDir(), "srv")
	if err != nil {
		f.Fatal(err)
	}
	tc := decodeTLS(f, fmt.Sprintf("common_tls_context:\n  tls_certificates: [{certificate_chain: {filename: %s}, private_key: {filename: %s}}]\n", cf, kf))
	s, err := NewServer(tc, Options{Path: "tls", Refresh: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	f.Add(clientHello(f))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			b.Write(data)
			b.Close() // EOF after the input: the handshake ends at once
		}()
		defer func() { a.Close(); <-done }()
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		s.Handshake(ctx, a, nil)
	})
}

// clientHello captures the first flight of a crypto/tls client.
func clientHello(f *testing.F) []byte {
	a, b := net.Pipe()
	go func() {
		c := tls.Client(a, &tls.Config{ServerName: "svc", InsecureSkipVerify: true})
		c.SetDeadline(time.Now().Add(time.Second))
		c.Handshake()
		a.Close()
	}()
	var buf bytes.Buffer
	b.SetReadDeadline(time.Now().Add(time.Second))
	chunk := make([]byte, 4096)
	n, _ := b.Read(chunk)
	buf.Write(chunk[:n])
	b.Close()
	return buf.Bytes()
}
