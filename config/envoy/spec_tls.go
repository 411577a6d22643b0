package envoy

import (
	"os"
	"path/filepath"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluice-proxy/sluice/config"
)

// tlsSpecs: a filter chain's transport_socket (TLS termination) and data
// sources.
var tlsSpecs = []message{
	{name: "envoy.config.core.v3.TransportSocket", translate: transportSocket, fields: []field{
		own("name", "free text: the @type says"), own("typed_config", "DownstreamTlsContext on a filter chain"),
	}},
	{name: "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext", fields: []field{
		own("common_tls_context", ""), own("require_client_certificate", ""),
	}, note: "becomes the chain's tls: certificate_file, private_key_file, client_ca_file, require_client_certificate, alpn. Relative file names are opened from the working directory, as Envoy does (sluice's own configs resolve them against the config file's directory)."},
	{name: "envoy.extensions.transport_sockets.tls.v3.CommonTlsContext", fields: []field{
		own("tls_certificates", "exactly one, from files"), own("validation_context", "trusted_ca from a file"),
		own("alpn_protocols", ""),
	}},
	{name: "envoy.extensions.transport_sockets.tls.v3.TlsCertificate", fields: []field{
		own("certificate_chain", "filename"), own("private_key", "filename"),
	}},
	{name: "envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext", fields: []field{
		own("trusted_ca", "filename"),
	}},
	{name: "envoy.config.core.v3.DataSource", translate: dataSource, fields: []field{
		own("filename", "read at load (a TLS file: its path)"), own("inline_string", ""), own("inline_bytes", ""),
		own("environment_variable", "read at load"),
	}},
}

// transportSocket translates a downstream TLS context into sluice's
// TLSContext (files only: sluice loads certificates from files).
func transportSocket(t *translator, m protoreflect.Message, env, slu string) any {
	fd := m.Descriptor().Fields().ByName("typed_config")
	tc := config.Join(env, "typed_config")
	if !m.Has(fd) {
		t.errs.Add(tc, "required: sluice terminates TLS with envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext")
		return nil
	}
	inner, err := unpack(m.Get(fd).Message())
	if err != nil {
		t.errs.Add(tc, "%v", err)
		return nil
	}
	d, ok := inner.Interface().(*tlsv3.DownstreamTlsContext)
	if !ok {
		t.errs.Add(config.Join(tc, "@type"), "%s: not supported by sluice here (a filter chain takes DownstreamTlsContext)", inner.Descriptor().FullName())
		return nil
	}
	t.paths[slu] = tc
	out := map[string]any{}
	c := d.GetCommonTlsContext()
	cp := config.Join(tc, "common_tls_context")
	file := func(ds interface{ GetFilename() string }, path string) string {
		if ds == nil || ds.GetFilename() == "" {
			t.errs.Add(path, "a filename is required: sluice reads certificates and keys from files")
			return ""
		}
		// Envoy opens a relative name from its working directory; sluice
		// would resolve it against the config file's, so make it absolute.
		abs, err := filepath.Abs(ds.GetFilename())
		if err != nil {
			t.errs.Add(path, "%v", err)
		}
		return abs
	}
	switch certs := c.GetTlsCertificates(); len(certs) {
	case 1:
		p := config.Index(config.Join(cp, "tls_certificates"), 0)
		out["certificate_file"] = file(certs[0].GetCertificateChain(), config.Join(p, "certificate_chain"))
		out["private_key_file"] = file(certs[0].GetPrivateKey(), config.Join(p, "private_key"))
		t.paths[config.Join(slu, "certificate_file")] = config.Join(p, "certificate_chain.filename")
		t.paths[config.Join(slu, "private_key_file")] = config.Join(p, "private_key.filename")
	default:
		t.errs.Add(config.Join(cp, "tls_certificates"), "sluice takes exactly one certificate, got %d", len(certs))
	}
	if vc := c.GetValidationContext(); vc != nil {
		p := config.Join(cp, "validation_context.trusted_ca")
		out["client_ca_file"] = file(vc.GetTrustedCa(), p)
		t.paths[config.Join(slu, "client_ca_file")] = config.Join(p, "filename")
	}
	if r := d.GetRequireClientCertificate(); r != nil {
		out["require_client_certificate"] = r.GetValue()
	}
	if a := c.GetAlpnProtocols(); len(a) > 0 {
		out["alpn"] = a
	}
	return out
}

// dataSource reads a DataSource where sluice wants its content (a redis
// password): inline, from the environment, or from a file at load.
func dataSource(t *translator, m protoreflect.Message, env, slu string) any {
	fds := m.Descriptor().Fields()
	switch {
	case m.Has(fds.ByName("inline_string")):
		return m.Get(fds.ByName("inline_string")).String()
	case m.Has(fds.ByName("inline_bytes")):
		return string(m.Get(fds.ByName("inline_bytes")).Bytes())
	case m.Has(fds.ByName("environment_variable")):
		name := m.Get(fds.ByName("environment_variable")).String()
		v, ok := os.LookupEnv(name)
		if !ok {
			t.errs.Add(config.Join(env, "environment_variable"), "%s is not set", name)
		}
		return v
	case m.Has(fds.ByName("filename")):
		b, err := os.ReadFile(m.Get(fds.ByName("filename")).String())
		if err != nil {
			t.errs.Add(config.Join(env, "filename"), "%v", err)
		}
		return string(b)
	}
	return ""
}
