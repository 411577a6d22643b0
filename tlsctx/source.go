package tlsctx

import (
	"fmt"
	"os"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/sluice-proxy/sluice/config"
)

// SecretSource delivers SDS secrets by name. A context asks for the
// current value of each secret it uses when it is built and then at every
// refresh (once a second); implementations return their latest copy and do
// no I/O they cannot afford that often. Fetch is called from the context's
// refresh goroutine only. A source for SDS over xDS plugs in through
// Options.Secrets; path_config_source files are read by FileSecrets.
type SecretSource interface {
	// Fetch returns the named secret, or an error if the source has none
	// (yet): a build fails with it, a refresh keeps the last material.
	Fetch(name string) (*tlsv3.Secret, error)
}

// FileSecrets reads secrets from Envoy's path_config_source file: a
// DiscoveryResponse in JSON or YAML whose resources are Secrets. The file
// is read at every Fetch, so an atomic rename or a Kubernetes ..data swap
// is seen at the next refresh.
type FileSecrets struct {
	// Path is the file.
	Path string
}

// Fetch reads the file and returns the secret called name.
func (f FileSecrets) Fetch(name string) (*tlsv3.Secret, error) {
	data, err := os.ReadFile(f.Path)
	if err != nil {
		return nil, fmt.Errorf("sds file: %w", err)
	}
	secrets, err := parseSecrets(data)
	if err != nil {
		return nil, fmt.Errorf("sds file %s: %w", f.Path, err)
	}
	for _, s := range secrets {
		if s.GetName() == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("sds file %s: no secret named %q", f.Path, name)
}

// parseSecrets decodes a DiscoveryResponse's resources. The envelope is
// read generically (its other fields do not matter here, and the typed
// DiscoveryResponse would link gRPC into sluice); each resource is an Any
// decoded by protojson, which reads its @type.
func parseSecrets(data []byte) ([]*tlsv3.Secret, error) {
	var doc struct {
		Resources []any `yaml:"resources" json:"resources"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil { // YAML is a superset of JSON
		return nil, err
	}
	if len(doc.Resources) == 0 {
		return nil, fmt.Errorf("no resources (want a DiscoveryResponse of Secrets)")
	}
	out := make([]*tlsv3.Secret, 0, len(doc.Resources))
	for i, r := range doc.Resources {
		j, err := jsonOf(r)
		if err != nil {
			return nil, fmt.Errorf("resources[%d]: %w", i, err)
		}
		var a anypb.Any
		if err := protojson.Unmarshal(j, &a); err != nil {
			return nil, fmt.Errorf("resources[%d]: %w", i, err)
		}
		var s tlsv3.Secret
		if err := a.UnmarshalTo(&s); err != nil {
			return nil, fmt.Errorf("resources[%d]: %w", i, err)
		}
		out = append(out, &s)
	}
	return out, nil
}

// secretCert turns an SDS TlsCertificate into the config model.
func secretCert(s *tlsv3.Secret) (*config.TLSCertificate, error) {
	c := s.GetTlsCertificate()
	if c == nil {
		return nil, fmt.Errorf("secret %q is not a tls_certificate", s.GetName())
	}
	return &config.TLSCertificate{CertificateChain: dataOf(c.GetCertificateChain()),
		PrivateKey: dataOf(c.GetPrivateKey()), OcspStaple: dataOf(c.GetOcspStaple())}, nil
}

// secretValidation turns an SDS CertificateValidationContext into the
// config model (its trusted CA, CRL and pins; SAN matchers come from the
// referring context, as in Envoy's combined validation context).
func secretValidation(s *tlsv3.Secret) (*config.ValidationContext, error) {
	v := s.GetValidationContext()
	if v == nil {
		return nil, fmt.Errorf("secret %q is not a validation_context", s.GetName())
	}
	out := &config.ValidationContext{TrustedCA: dataOf(v.GetTrustedCa()), CRL: dataOf(v.GetCrl()),
		VerifyCertificateSPKI: v.GetVerifyCertificateSpki(), VerifyCertificateHash: v.GetVerifyCertificateHash()}
	if v.GetTrustChainVerification() == tlsv3.CertificateValidationContext_ACCEPT_UNTRUSTED {
		out.TrustChainVerification = "ACCEPT_UNTRUSTED"
	}
	return out, nil
}

func dataOf(d interface {
	GetFilename() string
	GetInlineString() string
	GetInlineBytes() []byte
	GetEnvironmentVariable() string
}) *config.DataSource {
	if d == nil || (d.GetFilename() == "" && d.GetInlineString() == "" && len(d.GetInlineBytes()) == 0 && d.GetEnvironmentVariable() == "") {
		return nil
	}
	return &config.DataSource{Filename: d.GetFilename(), InlineString: d.GetInlineString(),
		InlineBytes: d.GetInlineBytes(), EnvironmentVariable: d.GetEnvironmentVariable()}
}

// readData returns a DataSource's bytes (nil source: nil).
func readData(d *config.DataSource) ([]byte, error) {
	switch {
	case d == nil:
		return nil, nil
	case d.Filename != "":
		return os.ReadFile(d.Filename)
	case d.EnvironmentVariable != "":
		v, ok := os.LookupEnv(d.EnvironmentVariable)
		if !ok {
			return nil, fmt.Errorf("environment variable %s is not set", d.EnvironmentVariable)
		}
		return []byte(v), nil
	case len(d.InlineBytes) > 0:
		return d.InlineBytes, nil
	}
	return []byte(d.InlineString), nil
}
