package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"
)

// selfSigned is a throwaway server certificate for 127.0.0.1 and localhost
// that is its own CA: clients trust exactly it.
type selfSigned struct {
	certPEM, keyPEM []byte
}

// newSelfSigned generates an ECDSA P-256 certificate valid for a day.
func newSelfSigned() (*selfSigned, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("testenv: tls key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, fmt.Errorf("testenv: tls serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "sluice testenv"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("testenv: tls certificate: %w", err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("testenv: tls key: %w", err)
	}
	return &selfSigned{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}),
	}, nil
}

// write stores the pair at certPath and keyPath (key mode 0600), owned by
// uid:gid when uid >= 0.
func (s *selfSigned) write(certPath, keyPath string, uid, gid int) error {
	if err := os.WriteFile(certPath, s.certPEM, 0o644); err != nil {
		return fmt.Errorf("testenv: writing cert: %w", err)
	}
	if err := os.WriteFile(keyPath, s.keyPEM, 0o600); err != nil {
		return fmt.Errorf("testenv: writing key: %w", err)
	}
	if uid >= 0 {
		for _, p := range []string{certPath, keyPath} {
			if err := os.Chown(p, uid, gid); err != nil {
				return fmt.Errorf("testenv: chown %s: %w", p, err)
			}
		}
	}
	return nil
}

// clientConfig returns a TLS client config that trusts only this
// certificate, for server name 127.0.0.1.
func (s *selfSigned) clientConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.certPEM)
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}
