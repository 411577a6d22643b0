package tlsctx

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"strings"
)

// Peer describes a verified peer certificate for policies and logs: its
// URI and DNS SANs, subject, SPIFFE ID and fingerprint, in Envoy's
// spellings (%DOWNSTREAM_PEER_URI_SAN% and friends).
type Peer struct {
	URISANs     []string
	DNSSANs     []string
	Subject     string
	SPIFFEID    string
	Fingerprint string // hex SHA-256 of the DER certificate
	Serial      string
}

// PeerOf returns the peer of a TLS session, or nil without a certificate.
func PeerOf(cs *tls.ConnectionState) *Peer {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return nil
	}
	return peerOf(cs.PeerCertificates[0])
}

func peerOf(c *x509.Certificate) *Peer {
	p := &Peer{DNSSANs: c.DNSNames, Subject: c.Subject.String(), Serial: c.SerialNumber.Text(16)}
	for _, u := range c.URIs {
		s := u.String()
		p.URISANs = append(p.URISANs, s)
		if p.SPIFFEID == "" && strings.HasPrefix(s, "spiffe://") {
			p.SPIFFEID = s
		}
	}
	h := sha256.Sum256(c.Raw)
	p.Fingerprint = hex.EncodeToString(h[:])
	return p
}

// PrincipalNames lists the names rbac's authenticated.principal_name is
// matched against, in Envoy's order: URI SANs, then DNS SANs, then the
// subject (only when there is no SAN of either kind).
func (p *Peer) PrincipalNames() []string {
	out := append(append([]string(nil), p.URISANs...), p.DNSSANs...)
	if len(out) == 0 {
		out = append(out, p.Subject)
	}
	return out
}

// VersionName is Envoy's %DOWNSTREAM_TLS_VERSION% spelling (TLSv1.3).
func VersionName(v uint16) string { return versionName(v) }

// CipherName is Envoy's %DOWNSTREAM_TLS_CIPHER% spelling (OpenSSL names).
func CipherName(id uint16) string {
	if n := cipherNames[id]; n != "" {
		return n
	}
	return tls.CipherSuiteName(id)
}
