package tlsctx

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/sluice-proxy/sluice/config"
)

// sdsRef is a secret read through a SecretSource.
type sdsRef struct {
	name string
	src  SecretSource
	path string // the config path, for errors
}

// inputs are what a context re-reads at every refresh: its certificates
// (named in the config or fetched by SDS), its validation context and its
// session ticket keys.
type inputs struct {
	certs   []*config.TLSCertificate
	certSDS []sdsRef
	vc      *config.ValidationContext
	vcSDS   *sdsRef
	tickets []config.DataSource
	path    string // the context's config path, for errors
}

// raw is one read of every input's bytes.
type raw struct {
	certs   [][3][]byte // chain, key, OCSP staple
	ca, crl []byte
	vc      *config.ValidationContext // pins and trust mode (the config's or an SDS secret's)
	tickets [][]byte
}

// read resolves SDS secrets and reads every data source.
func (in *inputs) read() (*raw, error) {
	r := &raw{vc: in.vc}
	certs := in.certs
	for _, s := range in.certSDS {
		sec, err := s.src.Fetch(s.name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.path, err)
		}
		c, err := secretCert(sec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.path, err)
		}
		certs = append(certs[:len(certs):len(certs)], c)
	}
	for i, c := range certs {
		var b [3][]byte
		var err error
		for j, d := range []*config.DataSource{c.CertificateChain, c.PrivateKey, c.OcspStaple} {
			if b[j], err = readData(d); err != nil {
				return nil, fmt.Errorf("%s: certificate %d (%s): %w", in.path, i, c.CertificateChain, err)
			}
		}
		r.certs = append(r.certs, b)
	}
	if in.vcSDS != nil {
		sec, err := in.vcSDS.src.Fetch(in.vcSDS.name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", in.vcSDS.path, err)
		}
		v, err := secretValidation(sec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", in.vcSDS.path, err)
		}
		r.vc = v
	}
	if r.vc != nil {
		var err error
		if r.ca, err = readData(r.vc.TrustedCA); err != nil {
			return nil, fmt.Errorf("%s: trusted_ca: %w", in.path, err)
		}
		if r.crl, err = readData(r.vc.CRL); err != nil {
			return nil, fmt.Errorf("%s: crl: %w", in.path, err)
		}
	}
	for i := range in.tickets {
		b, err := readData(&in.tickets[i])
		if err != nil {
			return nil, fmt.Errorf("%s: session_ticket_keys.keys[%d]: %w", in.path, i, err)
		}
		r.tickets = append(r.tickets, b)
	}
	return r, nil
}

// sum fingerprints the bytes read, to rebuild only on a change.
func (r *raw) sum() [32]byte {
	h := sha256.New()
	put := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, c := range r.certs {
		put(c[0])
		put(c[1])
		put(c[2])
	}
	put(r.ca)
	put(r.crl)
	if r.vc != nil {
		put([]byte(fmt.Sprint(r.vc.VerifyCertificateSPKI, r.vc.VerifyCertificateHash, r.vc.TrustChainVerification)))
	}
	for _, t := range r.tickets {
		put(t)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// material is one immutable generation of a context's keys and trust.
type material struct {
	certs   []*tls.Certificate // Leaf set
	verify  *verifier          // nil: peers are not verified
	tickets [][32]byte
}

// parse builds the material; mustStaple refuses a certificate without an
// OCSP staple.
func (r *raw) parse(path string, mustStaple bool, sans []sanMatcher) (*material, error) {
	m := &material{}
	for i, c := range r.certs {
		cert, err := tls.X509KeyPair(c[0], c[1])
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %w", path, i, err)
		}
		if len(c[2]) > 0 {
			cert.OCSPStaple = c[2]
		} else if mustStaple {
			return nil, fmt.Errorf("%s: certificate %d has no ocsp_staple and ocsp_staple_policy requires one", path, i)
		}
		m.certs = append(m.certs, &cert)
	}
	if r.vc != nil {
		v, err := newVerifier(r, sans)
		if err != nil {
			return nil, fmt.Errorf("%s: validation_context: %w", path, err)
		}
		m.verify = v
	}
	for i, t := range r.tickets {
		if len(t) != 80 {
			return nil, fmt.Errorf("%s: session_ticket_keys.keys[%d]: %d bytes, Envoy's key files have 80", path, i, len(t))
		}
		m.tickets = append(m.tickets, sha256.Sum256(t))
	}
	return m, nil
}

// parseCerts decodes every CERTIFICATE block of a PEM bundle.
func parseCerts(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate")
	}
	return out, nil
}
