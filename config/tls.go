package config

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// TLSContext makes a filter chain terminate TLS before its filters run. It
// is Envoy's DownstreamTlsContext under Envoy's field names, plus sluice's
// older shorthand (certificate_file, private_key_file, client_ca_file,
// alpn), which is kept so that existing configs load: give one form or the
// other for the certificates.
type TLSContext struct {
	// CertificateFile and PrivateKeyFile are PEM files; relative paths are
	// resolved against the config file's directory.
	CertificateFile string `yaml:"certificate_file" json:"certificate_file,omitempty" sluice:"path"`
	PrivateKeyFile  string `yaml:"private_key_file" json:"private_key_file,omitempty" sluice:"path"`
	// ClientCAFile, when set, asks for and verifies client certificates.
	ClientCAFile string   `yaml:"client_ca_file" json:"client_ca_file,omitempty" sluice:"path"`
	ALPN         []string `yaml:"alpn" json:"alpn,omitempty"`
	// RequireClientCert refuses clients without a verified certificate.
	RequireClientCert bool `yaml:"require_client_certificate" json:"require_client_certificate,omitempty"`

	// CommonTLSContext holds certificates, validation, parameters and ALPN.
	CommonTLSContext *CommonTLSContext `yaml:"common_tls_context" json:"common_tls_context,omitempty"`
	// SessionTicketKeys are 80-byte files (Envoy's format); the first key
	// encrypts new tickets, all decrypt. Without them Go's own rotating
	// in-memory keys are used (stateless resumption still works).
	SessionTicketKeys *TLSSessionTicketKeys `yaml:"session_ticket_keys" json:"session_ticket_keys,omitempty"`
	// DisableStatelessSessionResumption turns session tickets off.
	DisableStatelessSessionResumption bool `yaml:"disable_stateless_session_resumption" json:"disable_stateless_session_resumption,omitempty"`
	// OcspStaplePolicy is lenient_stapling (default), strict_stapling or
	// must_staple, Envoy's enum in either case.
	OcspStaplePolicy string `yaml:"ocsp_staple_policy" json:"ocsp_staple_policy,omitempty"`
	// FullScanCertsOnSNIMismatch: when no certificate matches the SNI, pick
	// among all by key type instead of taking the first. Default false.
	FullScanCertsOnSNIMismatch bool `yaml:"full_scan_certs_on_sni_mismatch" json:"full_scan_certs_on_sni_mismatch,omitempty"`
}

// UpstreamTLSContext is Envoy's UpstreamTlsContext: TLS from sluice to a
// cluster's hosts.
type UpstreamTLSContext struct {
	CommonTLSContext *CommonTLSContext `yaml:"common_tls_context" json:"common_tls_context,omitempty"`
	// SNI is sent to every host; empty sends none unless AutoSNI.
	SNI string `yaml:"sni" json:"sni,omitempty"`
	// AutoSNI sends the downstream's SNI (Envoy's
	// upstream_http_protocol_options.auto_sni) when there is one.
	AutoSNI bool `yaml:"auto_sni" json:"auto_sni,omitempty"`
	// AllowRenegotiation is accepted and ignored (Go's client refuses
	// renegotiation, which is the safe default Envoy also has).
	AllowRenegotiation bool `yaml:"allow_renegotiation" json:"allow_renegotiation,omitempty"`
	// MaxSessionKeys bounds the session cache (Envoy's default 1; 0 turns
	// resumption off).
	MaxSessionKeys *uint32 `yaml:"max_session_keys" json:"max_session_keys,omitempty"`
}

// CommonTLSContext is Envoy's CommonTlsContext.
type CommonTLSContext struct {
	TLSParams                      *TLSParameters     `yaml:"tls_params" json:"tls_params,omitempty"`
	TLSCertificates                []TLSCertificate   `yaml:"tls_certificates" json:"tls_certificates,omitempty"`
	TLSCertificateSdsSecretConfigs []SdsSecretConfig  `yaml:"tls_certificate_sds_secret_configs" json:"tls_certificate_sds_secret_configs,omitempty"`
	ValidationContext              *ValidationContext `yaml:"validation_context" json:"validation_context,omitempty"`
	// ValidationContextSdsSecretConfig reads the validation context from SDS.
	ValidationContextSdsSecretConfig *SdsSecretConfig `yaml:"validation_context_sds_secret_config" json:"validation_context_sds_secret_config,omitempty"`
	ALPNProtocols                    []string         `yaml:"alpn_protocols" json:"alpn_protocols,omitempty"`
}

// TLSParameters is Envoy's TlsParameters; versions are TLSv1_2, TLSv1_3 or
// TLS_AUTO; cipher suites use OpenSSL/BoringSSL names.
type TLSParameters struct {
	TLSMinimumProtocolVersion string   `yaml:"tls_minimum_protocol_version" json:"tls_minimum_protocol_version,omitempty"`
	TLSMaximumProtocolVersion string   `yaml:"tls_maximum_protocol_version" json:"tls_maximum_protocol_version,omitempty"`
	CipherSuites              []string `yaml:"cipher_suites" json:"cipher_suites,omitempty"`
	ECDHCurves                []string `yaml:"ecdh_curves" json:"ecdh_curves,omitempty"`
}

// TLSCertificate is Envoy's TlsCertificate: a chain, its key and an
// optional OCSP response, each a DataSource.
type TLSCertificate struct {
	CertificateChain *DataSource `yaml:"certificate_chain" json:"certificate_chain,omitempty"`
	PrivateKey       *DataSource `yaml:"private_key" json:"private_key,omitempty"`
	OcspStaple       *DataSource `yaml:"ocsp_staple" json:"ocsp_staple,omitempty"`
	// WatchedDirectory re-reads the files when the directory changes (a
	// Kubernetes secret mount's ..data swap); files are re-read on change
	// without it too.
	WatchedDirectory *WatchedDirectory `yaml:"watched_directory" json:"watched_directory,omitempty"`
}

// DataSource is Envoy's DataSource: exactly one of a file, inline text or
// bytes, or an environment variable. Files are re-read when they change.
type DataSource struct {
	Filename            string `yaml:"filename" json:"filename,omitempty" sluice:"path"`
	InlineString        string `yaml:"inline_string" json:"inline_string,omitempty"`
	InlineBytes         Base64 `yaml:"inline_bytes" json:"inline_bytes,omitempty"`
	EnvironmentVariable string `yaml:"environment_variable" json:"environment_variable,omitempty"`
}

// Base64 is bytes written as base64 text (Envoy's JSON form of bytes).
type Base64 []byte

// UnmarshalText decodes standard base64.
func (b *Base64) UnmarshalText(t []byte) error {
	v, err := base64.StdEncoding.DecodeString(string(t))
	if err != nil {
		return fmt.Errorf("not base64: %w", err)
	}
	*b = v
	return nil
}

// MarshalText encodes standard base64.
func (b Base64) MarshalText() ([]byte, error) {
	return []byte(base64.StdEncoding.EncodeToString(b)), nil
}

// WatchedDirectory is Envoy's WatchedDirectory.
type WatchedDirectory struct {
	Path string `yaml:"path" json:"path" sluice:"path"`
}

// ValidationContext is Envoy's CertificateValidationContext.
type ValidationContext struct {
	TrustedCA                 *DataSource             `yaml:"trusted_ca" json:"trusted_ca,omitempty"`
	MatchTypedSubjectAltNames []SubjectAltNameMatcher `yaml:"match_typed_subject_alt_names" json:"match_typed_subject_alt_names,omitempty"`
	VerifyCertificateSPKI     []string                `yaml:"verify_certificate_spki" json:"verify_certificate_spki,omitempty"`
	VerifyCertificateHash     []string                `yaml:"verify_certificate_hash" json:"verify_certificate_hash,omitempty"`
	CRL                       *DataSource             `yaml:"crl" json:"crl,omitempty"`
	// TrustChainVerification is VERIFY_TRUST_CHAIN (default) or
	// ACCEPT_UNTRUSTED.
	TrustChainVerification string            `yaml:"trust_chain_verification" json:"trust_chain_verification,omitempty"`
	WatchedDirectory       *WatchedDirectory `yaml:"watched_directory" json:"watched_directory,omitempty"`
}

// SubjectAltNameMatcher is Envoy's SubjectAltNameMatcher: san_type DNS,
// URI, EMAIL or IP_ADDRESS and a string matcher.
type SubjectAltNameMatcher struct {
	SANType string      `yaml:"san_type" json:"san_type"`
	Matcher StringMatch `yaml:"matcher" json:"matcher"`
}

// StringMatch holds an Envoy StringMatcher decoded by the type the router
// registers (router imports config, so config cannot name its type).
type StringMatch struct {
	// M is the router's *StringMatcher.
	M any
}

var newStringMatcher func() any

// RegisterStringMatcher sets the type StringMatch decodes into; the router
// package calls it from init.
func RegisterStringMatcher(f func() any) { newStringMatcher = f }

// DecodeNode decodes the matcher with the registered type.
func (s *StringMatch) DecodeNode(d *Decoder, path string, n *yaml.Node) {
	if newStringMatcher == nil {
		d.fail(path, n, "string matchers are not linked into this binary")
		return
	}
	s.M = newStringMatcher()
	d.Decode(path, n, s.M)
}

// MarshalJSON writes the matcher itself (for /config_dump).
func (s StringMatch) MarshalJSON() ([]byte, error) { return json.Marshal(s.M) }

// SdsSecretConfig is Envoy's SdsSecretConfig: a secret by name from a
// config source (a file today; xDS plugs in through tlsctx.SecretSource).
type SdsSecretConfig struct {
	Name      string        `yaml:"name" json:"name"`
	SdsConfig *ConfigSource `yaml:"sds_config" json:"sds_config,omitempty"`
}

// ConfigSource is the part of Envoy's ConfigSource sluice reads.
type ConfigSource struct {
	PathConfigSource *PathConfigSource `yaml:"path_config_source" json:"path_config_source,omitempty"`
	// Ads names the control plane; it needs an xDS secret source
	// (tlsctx.SecretSource) in the server's build.
	Ads *struct{} `yaml:"ads" json:"ads,omitempty"`
}

// PathConfigSource is Envoy's PathConfigSource: a file holding a
// DiscoveryResponse of Secrets (YAML or JSON).
type PathConfigSource struct {
	Path             string            `yaml:"path" json:"path" sluice:"path"`
	WatchedDirectory *WatchedDirectory `yaml:"watched_directory" json:"watched_directory,omitempty"`
}

// TLSSessionTicketKeys is Envoy's TlsSessionTicketKeys.
type TLSSessionTicketKeys struct {
	Keys []DataSource `yaml:"keys" json:"keys"`
}
