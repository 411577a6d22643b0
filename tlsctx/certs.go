package tlsctx

import (
	"crypto/tls"
	"strings"
)

// getCertificate picks the certificate for a ClientHello as Envoy does:
// the certificates whose names match the SNI exactly, else those matching
// it by wildcard; among them the first the client can use (key type,
// signature algorithms); with no SNI match, the first certificate, or with
// full_scan_certs_on_sni_mismatch the first the client can use.
func (s *Server) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	certs := s.cur.Load().certs
	if len(certs) == 1 {
		return certs[0], nil
	}
	name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	if name != "" {
		if c := firstSupported(hello, certs, func(c *tls.Certificate) bool { return hasName(c, name, false) }); c != nil {
			return c, nil
		}
		if c := firstSupported(hello, certs, func(c *tls.Certificate) bool { return hasName(c, name, true) }); c != nil {
			return c, nil
		}
		if !s.fullScan {
			return firstSupported(hello, certs[:1], func(*tls.Certificate) bool { return true }), nil
		}
	}
	return firstSupported(hello, certs, func(*tls.Certificate) bool { return true }), nil
}

// firstSupported returns the first certificate keep accepts that the
// client supports, else the first keep accepts, else nil.
func firstSupported(hello *tls.ClientHelloInfo, certs []*tls.Certificate, keep func(*tls.Certificate) bool) *tls.Certificate {
	var fallback *tls.Certificate
	for _, c := range certs {
		if !keep(c) {
			continue
		}
		if fallback == nil {
			fallback = c
		}
		if supportsKey(hello, c) {
			return c
		}
	}
	return fallback
}

// supportsKey is SupportsCertificate without its SNI check (names are
// matched above, by Envoy's rules).
func supportsKey(hello *tls.ClientHelloInfo, c *tls.Certificate) bool {
	h := *hello
	h.ServerName = ""
	return h.SupportsCertificate(c) == nil
}

// hasName reports whether c names host exactly, or (wildcard) through a
// "*." name covering one label.
func hasName(c *tls.Certificate, host string, wildcard bool) bool {
	names := c.Leaf.DNSNames
	if len(names) == 0 && c.Leaf.Subject.CommonName != "" {
		names = []string{c.Leaf.Subject.CommonName}
	}
	for _, n := range names {
		n = strings.ToLower(n)
		if !wildcard && n == host {
			return true
		}
		if wildcard && strings.HasPrefix(n, "*.") {
			if i := strings.IndexByte(host, '.'); i > 0 && host[i:] == n[1:] {
				return true
			}
		}
	}
	return false
}
