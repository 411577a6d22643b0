package kafkamesh

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"github.com/sluice-proxy/sluice/config"
)

// Envoy's kafka_mesh reaches its upstream clusters with librdkafka, not
// through Envoy clusters, so TLS to a Kafka cluster is configured as
// librdkafka's properties in producer_config; the mesh reads the same
// keys and gives franz-go the resulting config (kgo.DialTLSConfig, which
// sets each broker's host as the SNI and verified name).
const (
	propProtocol = "security.protocol"
	propCA       = "ssl.ca.location"
	propCert     = "ssl.certificate.location"
	propKey      = "ssl.key.location"
	propIdent    = "ssl.endpoint.identification.algorithm"
	propVerify   = "enable.ssl.certificate.verification"
)

// tlsConfig builds the client TLS config producer_config asks for: nil for
// security.protocol plaintext (the default). Errors name the property.
func tlsConfig(pc map[string]string) (*tls.Config, string, error) {
	switch strings.ToLower(pc[propProtocol]) {
	case "", "plaintext":
		for _, k := range []string{propCA, propCert, propKey} {
			if pc[k] != "" {
				return nil, k, fmt.Errorf("needs %s: ssl", propProtocol)
			}
		}
		return nil, "", nil
	case "ssl":
	default:
		return nil, propProtocol, fmt.Errorf("%q is not supported (plaintext or ssl; SASL is not)", pc[propProtocol])
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if f := pc[propCA]; f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, propCA, err
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, propCA, fmt.Errorf("%s holds no PEM certificate", f)
		}
	}
	switch cert, key := pc[propCert], pc[propKey]; {
	case cert != "" && key != "":
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, propCert, err
		}
		cfg.Certificates = []tls.Certificate{pair}
	case cert != "" || key != "":
		return nil, propCert, fmt.Errorf("%s and %s go together", propCert, propKey)
	}
	verify, ident := strings.ToLower(pc[propVerify]), strings.ToLower(pc[propIdent])
	switch {
	case verify == "false":
		cfg.InsecureSkipVerify = true // librdkafka: no verification at all
	case verify != "" && verify != "true":
		return nil, propVerify, fmt.Errorf("must be true or false, got %q", pc[propVerify])
	case ident == "none":
		// The chain is verified, the broker's name is not (librdkafka's
		// ssl.endpoint.identification.algorithm=none).
		cfg.InsecureSkipVerify = true
		cfg.VerifyPeerCertificate = verifyChainOnly(cfg.RootCAs)
	case ident != "" && ident != "https":
		return nil, propIdent, fmt.Errorf("must be https or none, got %q", pc[propIdent])
	}
	return cfg, "", nil
}

// verifyChainOnly checks the server's chain against roots (nil: the
// system's) without matching its name.
func verifyChainOnly(roots *x509.CertPool) func([][]byte, [][]*x509.Certificate) error {
	return func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return fmt.Errorf("the broker sent no certificate")
		}
		certs := make([]*x509.Certificate, len(raw))
		for i, b := range raw {
			c, err := x509.ParseCertificate(b)
			if err != nil {
				return err
			}
			certs[i] = c
		}
		inter := x509.NewCertPool()
		for _, c := range certs[1:] {
			inter.AddCert(c)
		}
		_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
		return err
	}
}

// checkTLS reports a producer_config TLS problem at its property's path.
func checkTLS(u *UpstreamCluster, path string, errs *config.Errors) {
	if _, prop, err := tlsConfig(u.ProducerConfig); err != nil {
		errs.Add(config.Join(config.Join(path, "producer_config"), prop), "%v", err)
	}
}
