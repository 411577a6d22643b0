package tlsctx

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/router"
)

// failKind says which ssl.fail_verify_* counter a refused peer counts in.
type failKind int

const (
	failError    failKind = iota // ssl.fail_verify_error: chain, expiry, revocation
	failNoCert                   // ssl.fail_verify_no_cert
	failSAN                      // ssl.fail_verify_san
	failCertHash                 // ssl.fail_verify_cert_hash (SPKI or hash pin)
)

// VerifyError is a refused peer certificate, with the reason logged.
type VerifyError struct {
	kind   failKind
	Reason string
}

func (e *VerifyError) Error() string { return "peer certificate refused: " + e.Reason }

func refuse(k failKind, format string, args ...any) error {
	return &VerifyError{kind: k, Reason: fmt.Sprintf(format, args...)}
}

// sanMatcher is one match_typed_subject_alt_names entry.
type sanMatcher struct {
	typ   string
	match func(string) bool
}

// compileSANs compiles the config's SAN matchers (router's StringMatcher).
func compileSANs(v *config.ValidationContext) []sanMatcher {
	if v == nil {
		return nil
	}
	out := make([]sanMatcher, 0, len(v.MatchTypedSubjectAltNames))
	for _, m := range v.MatchTypedSubjectAltNames {
		sm, ok := m.Matcher.M.(*router.StringMatcher)
		if !ok {
			continue // refused by the config's validation
		}
		out = append(out, sanMatcher{typ: m.SANType, match: sm.Compile().Match})
	}
	return out
}

// verifier checks a peer chain as Envoy's certificate validator does: the
// chain against trusted_ca (unless ACCEPT_UNTRUSTED), CRLs, then any of
// the SPKI or hash pins, then any SAN matcher.
type verifier struct {
	roots           *x509.CertPool // nil: no trusted_ca, no chain check
	acceptUntrusted bool
	crls            []*x509.RevocationList
	spki, hashes    [][]byte
	sans            []sanMatcher
}

func newVerifier(r *raw, sans []sanMatcher) (*verifier, error) {
	v := &verifier{acceptUntrusted: r.vc.TrustChainVerification == "ACCEPT_UNTRUSTED", sans: sans}
	if len(r.ca) > 0 {
		cas, err := parseCerts(r.ca)
		if err != nil {
			return nil, fmt.Errorf("trusted_ca: %w", err)
		}
		v.roots = x509.NewCertPool()
		for _, c := range cas {
			v.roots.AddCert(c)
		}
	}
	for rest := r.crl; len(rest) > 0; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		l, err := x509.ParseRevocationList(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("crl: %w", err)
		}
		v.crls = append(v.crls, l)
	}
	if len(r.crl) > 0 && len(v.crls) == 0 {
		return nil, fmt.Errorf("crl: no PEM X509 CRL")
	}
	for i, s := range r.vc.VerifyCertificateSPKI {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("verify_certificate_spki[%d]: not a base64 SHA-256", i)
		}
		v.spki = append(v.spki, b)
	}
	for i, s := range r.vc.VerifyCertificateHash {
		b, err := hex.DecodeString(strings.ReplaceAll(s, ":", ""))
		if err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("verify_certificate_hash[%d]: not a hex SHA-256", i)
		}
		v.hashes = append(v.hashes, b)
	}
	return v, nil
}

// check verifies a non-empty peer chain (leaf first).
func (v *verifier) check(chain []*x509.Certificate) error {
	leaf := chain[0]
	if v.roots != nil && !v.acceptUntrusted {
		inter := x509.NewCertPool()
		for _, c := range chain[1:] {
			inter.AddCert(c)
		}
		chains, err := leaf.Verify(x509.VerifyOptions{Roots: v.roots, Intermediates: inter,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, CurrentTime: time.Now()})
		if err != nil {
			return refuse(failError, "%v", err)
		}
		if err := v.checkCRL(chains[0]); err != nil {
			return err
		}
	}
	if len(v.spki) > 0 || len(v.hashes) > 0 {
		if !v.pinned(leaf) {
			return refuse(failCertHash, "certificate hash or SPKI matches no verify_certificate_hash / verify_certificate_spki")
		}
	}
	if len(v.sans) > 0 && !v.sanMatch(leaf) {
		return refuse(failSAN, "no subject alt name matches match_typed_subject_alt_names (%s)", describeSANs(leaf))
	}
	return nil
}

func (v *verifier) pinned(leaf *x509.Certificate) bool {
	h := sha256.Sum256(leaf.Raw)
	for _, p := range v.hashes {
		if bytes.Equal(p, h[:]) {
			return true
		}
	}
	s := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	for _, p := range v.spki {
		if bytes.Equal(p, s[:]) {
			return true
		}
	}
	return false
}

func (v *verifier) sanMatch(leaf *x509.Certificate) bool {
	for _, m := range v.sans {
		for _, s := range sansOf(leaf, m.typ) {
			if m.match(s) {
				return true
			}
		}
	}
	return false
}

// checkCRL refuses a chain member listed in a CRL its issuer signed.
func (v *verifier) checkCRL(chain []*x509.Certificate) error {
	for i, c := range chain[:len(chain)-1] {
		issuer := chain[i+1]
		for _, l := range v.crls {
			if !bytes.Equal(l.RawIssuer, issuer.RawSubject) || l.CheckSignatureFrom(issuer) != nil {
				continue
			}
			for _, e := range l.RevokedCertificateEntries {
				if e.SerialNumber.Cmp(c.SerialNumber) == 0 {
					return refuse(failError, "certificate %s (serial %s) is revoked", c.Subject, c.SerialNumber.Text(16))
				}
			}
		}
	}
	return nil
}

// sansOf lists a certificate's SANs of one Envoy san_type.
func sansOf(c *x509.Certificate, typ string) []string {
	switch typ {
	case "DNS":
		return c.DNSNames
	case "EMAIL":
		return c.EmailAddresses
	case "URI":
		out := make([]string, len(c.URIs))
		for i, u := range c.URIs {
			out[i] = u.String()
		}
		return out
	case "IP_ADDRESS":
		out := make([]string, len(c.IPAddresses))
		for i, ip := range c.IPAddresses {
			out[i] = ip.String()
		}
		return out
	}
	return nil
}

func describeSANs(c *x509.Certificate) string {
	var parts []string
	for _, t := range []string{"URI", "DNS", "EMAIL", "IP_ADDRESS"} {
		for _, s := range sansOf(c, t) {
			parts = append(parts, t+":"+s)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
