package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// hasCerts reports whether the common context names any certificate.
func (t *TLSContext) hasCerts() bool {
	c := t.CommonTLSContext
	return c != nil && (len(c.TLSCertificates) > 0 || len(c.TLSCertificateSdsSecretConfigs) > 0)
}

// Validate checks the context's shape; files are read when it is built.
func (t *TLSContext) Validate(path string, errs *Errors) {
	legacy := t.CertificateFile != "" || t.PrivateKeyFile != ""
	switch {
	case legacy && t.hasCerts():
		errs.Add(path, "give certificate_file/private_key_file or common_tls_context.tls_certificates, not both")
	case legacy:
		if t.CertificateFile == "" {
			errs.Add(Join(path, "certificate_file"), "required")
		}
		if t.PrivateKeyFile == "" {
			errs.Add(Join(path, "private_key_file"), "required")
		}
	case !t.hasCerts():
		errs.Add(Join(path, "certificate_file"), "required (or common_tls_context.tls_certificates)")
	}
	hasCA := t.ClientCAFile != ""
	if c := t.CommonTLSContext; c != nil {
		if len(t.ALPN) > 0 && len(c.ALPNProtocols) > 0 {
			errs.Add(Join(path, "alpn"), "give alpn or common_tls_context.alpn_protocols, not both")
		}
		if t.ClientCAFile != "" && (c.ValidationContext != nil || c.ValidationContextSdsSecretConfig != nil) {
			errs.Add(Join(path, "client_ca_file"), "give client_ca_file or common_tls_context.validation_context, not both")
		}
		c.validate(Join(path, "common_tls_context"), errs)
		if v := c.ValidationContext; v != nil && (v.TrustedCA != nil || v.TrustChainVerification == "ACCEPT_UNTRUSTED") {
			hasCA = true
		}
		if c.ValidationContextSdsSecretConfig != nil {
			hasCA = true
		}
	}
	if t.RequireClientCert && !hasCA {
		errs.Add(Join(path, "require_client_certificate"), "needs a trusted CA (client_ca_file or common_tls_context.validation_context.trusted_ca)")
	}
	switch t.OcspStaplePolicy {
	case "", "lenient_stapling", "LENIENT_STAPLING", "strict_stapling", "STRICT_STAPLING", "must_staple", "MUST_STAPLE":
	default:
		errs.Add(Join(path, "ocsp_staple_policy"), "must be LENIENT_STAPLING, STRICT_STAPLING or MUST_STAPLE, got %q", t.OcspStaplePolicy)
	}
	if k := t.SessionTicketKeys; k != nil {
		if t.DisableStatelessSessionResumption {
			errs.Add(Join(path, "session_ticket_keys"), "set with disable_stateless_session_resumption")
		}
		if len(k.Keys) == 0 {
			errs.Add(Join(path, "session_ticket_keys.keys"), "at least one key")
		}
		for i := range k.Keys {
			k.Keys[i].validate(Index(Join(path, "session_ticket_keys.keys"), i), errs)
		}
	}
}

// Validate checks the upstream context's shape.
func (u *UpstreamTLSContext) Validate(path string, errs *Errors) {
	if u.CommonTLSContext != nil {
		u.CommonTLSContext.validate(Join(path, "common_tls_context"), errs)
	}
	if len(u.SNI) > 255 {
		errs.Add(Join(path, "sni"), "longer than 255 bytes")
	}
}

func (c *CommonTLSContext) validate(path string, errs *Errors) {
	if p := c.TLSParams; p != nil {
		for _, f := range []struct{ name, v string }{{"tls_minimum_protocol_version", p.TLSMinimumProtocolVersion}, {"tls_maximum_protocol_version", p.TLSMaximumProtocolVersion}} {
			switch f.v {
			case "", "TLS_AUTO", "TLSv1_2", "TLSv1_3":
			case "TLSv1_0", "TLSv1_1":
				errs.Add(Join(Join(path, "tls_params"), f.name), "%s is refused: sluice speaks TLS 1.2 and 1.3 only", f.v)
			default:
				errs.Add(Join(Join(path, "tls_params"), f.name), "must be TLS_AUTO, TLSv1_2 or TLSv1_3, got %q", f.v)
			}
		}
	}
	if c.ValidationContext != nil && c.ValidationContextSdsSecretConfig != nil {
		errs.Add(Join(path, "validation_context"), "give validation_context or validation_context_sds_secret_config, not both")
	}
	for i := range c.TLSCertificates {
		tc := &c.TLSCertificates[i]
		p := Index(Join(path, "tls_certificates"), i)
		if tc.CertificateChain == nil {
			errs.Add(Join(p, "certificate_chain"), "required")
		} else {
			tc.CertificateChain.validate(Join(p, "certificate_chain"), errs)
		}
		if tc.PrivateKey == nil {
			errs.Add(Join(p, "private_key"), "required")
		} else {
			tc.PrivateKey.validate(Join(p, "private_key"), errs)
		}
	}
	for i := range c.TLSCertificateSdsSecretConfigs {
		c.TLSCertificateSdsSecretConfigs[i].validate(Index(Join(path, "tls_certificate_sds_secret_configs"), i), errs)
	}
	if s := c.ValidationContextSdsSecretConfig; s != nil {
		s.validate(Join(path, "validation_context_sds_secret_config"), errs)
	}
	if v := c.ValidationContext; v != nil {
		v.validate(Join(path, "validation_context"), errs)
	}
}

func (v *ValidationContext) validate(path string, errs *Errors) {
	switch v.TrustChainVerification {
	case "", "VERIFY_TRUST_CHAIN", "ACCEPT_UNTRUSTED":
	default:
		errs.Add(Join(path, "trust_chain_verification"), "must be VERIFY_TRUST_CHAIN or ACCEPT_UNTRUSTED, got %q", v.TrustChainVerification)
	}
	for i, m := range v.MatchTypedSubjectAltNames {
		switch m.SANType {
		case "DNS", "URI", "EMAIL", "IP_ADDRESS":
		default:
			errs.Add(Join(Index(Join(path, "match_typed_subject_alt_names"), i), "san_type"), "must be DNS, URI, EMAIL or IP_ADDRESS, got %q", m.SANType)
		}
		if m.Matcher.M == nil {
			errs.Add(Join(Index(Join(path, "match_typed_subject_alt_names"), i), "matcher"), "required")
		}
	}
	if v.TrustedCA != nil {
		v.TrustedCA.validate(Join(path, "trusted_ca"), errs)
	}
	if v.CRL != nil {
		v.CRL.validate(Join(path, "crl"), errs)
	}
}

func (s *SdsSecretConfig) validate(path string, errs *Errors) {
	if s.Name == "" {
		errs.Add(Join(path, "name"), "required")
	}
	if s.SdsConfig == nil || (s.SdsConfig.PathConfigSource == nil && s.SdsConfig.Ads == nil) {
		errs.Add(Join(path, "sds_config"), "required: path_config_source (a file) or ads")
	}
}

func (d *DataSource) validate(path string, errs *Errors) {
	n := 0
	for _, set := range []bool{d.Filename != "", d.InlineString != "", len(d.InlineBytes) > 0, d.EnvironmentVariable != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		errs.Add(path, "set exactly one of filename, inline_string, inline_bytes, environment_variable (%d set)", n)
	}
}

// String names the source for logs and /certs.
func (d *DataSource) String() string {
	switch {
	case d == nil:
		return ""
	case d.Filename != "":
		return d.Filename
	case d.EnvironmentVariable != "":
		return "$" + d.EnvironmentVariable
	}
	return "<inline>"
}

var _ fmt.Stringer = (*DataSource)(nil)

// checkFiles loads the certificate pairs and the CA bundle named by file
// (sluice validate); data from SDS, inline or the environment is checked
// when the context is built.
func (c *CommonTLSContext) checkFiles(path string, errs *Errors) {
	if c == nil {
		return
	}
	for i, tc := range c.TLSCertificates {
		if tc.CertificateChain == nil || tc.PrivateKey == nil || tc.CertificateChain.Filename == "" || tc.PrivateKey.Filename == "" {
			continue
		}
		cf, kf := tc.CertificateChain.Filename, tc.PrivateKey.Filename
		if readable(cf) && readable(kf) {
			if _, err := tls.LoadX509KeyPair(cf, kf); err != nil {
				errs.Add(Join(Index(Join(path, "tls_certificates"), i), "certificate_chain"), "with private_key: %v", err)
			}
		}
	}
	if v := c.ValidationContext; v != nil && v.TrustedCA != nil && v.TrustedCA.Filename != "" && readable(v.TrustedCA.Filename) {
		pem, _ := os.ReadFile(v.TrustedCA.Filename)
		if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			errs.Add(Join(path, "validation_context.trusted_ca"), "no PEM certificate in %s", v.TrustedCA.Filename)
		}
	}
}

// CheckFiles loads an upstream context's certificate pairs and CA bundle.
func (u *UpstreamTLSContext) CheckFiles(path string, errs *Errors) {
	u.CommonTLSContext.checkFiles(Join(path, "common_tls_context"), errs)
}

var _ FileChecker = (*UpstreamTLSContext)(nil)
