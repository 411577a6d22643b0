package envoy

import (
	"os"
	"path/filepath"
	"strings"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluice-proxy/sluice/config"
)

// tlsSpecs: transport sockets (TLS termination on filter chains, TLS
// origination on clusters), SDS secret references and data sources.
var tlsSpecs = []message{
	{name: "envoy.config.core.v3.TransportSocket", translate: transportSocket, fields: []field{
		own("name", "free text: the @type says"), own("typed_config", "DownstreamTlsContext on a filter chain, UpstreamTlsContext on a cluster"),
	}},
	{name: "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext", translate: tlsMessage, fields: []field{
		ok("common_tls_context"), ok("require_client_certificate"), ok("session_ticket_keys"),
		ok("disable_stateless_session_resumption"), ok("ocsp_staple_policy"), ok("full_scan_certs_on_sni_mismatch"),
	}, note: "the chain's tls. Relative file names are opened from the working directory, as Envoy does (sluice's own configs resolve them against the config file's directory). Files are re-read when they change."},
	{name: "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", translate: tlsMessage, fields: []field{
		ok("common_tls_context"), ok("sni"), okNote("allow_renegotiation", "accepted; Go's client never renegotiates"), ok("max_session_keys"),
	}, note: "the cluster's tls: every connection to its hosts (tcp_proxy, redis_proxy, kafka) speaks TLS"},
	{name: "envoy.extensions.transport_sockets.tls.v3.CommonTlsContext", translate: tlsMessage, fields: []field{
		ok("tls_params"), ok("tls_certificates"), okNote("tls_certificate_sds_secret_configs", "from a path_config_source file or over ADS (sds_config: {ads: {}})"),
		ok("validation_context"), ok("validation_context_sds_secret_config"), ok("alpn_protocols"),
	}},
	{name: "envoy.extensions.transport_sockets.tls.v3.TlsParameters", translate: tlsMessage, fields: []field{
		okNote("tls_minimum_protocol_version", "TLSv1_2 (default) or TLSv1_3; TLSv1_0/1_1 are refused"), ok("tls_maximum_protocol_version"),
		okNote("cipher_suites", "OpenSSL names, mapped to Go's TLS 1.2 suites; TLS 1.3 suites are fixed"), okNote("ecdh_curves", "X25519, P-256, P-384, P-521, X25519MLKEM768"),
	}},
	{name: "envoy.extensions.transport_sockets.tls.v3.TlsCertificate", translate: tlsMessage, fields: []field{
		ok("certificate_chain"), ok("private_key"), okNote("ocsp_staple", "stapled as given (DER)"), ok("watched_directory"),
	}},
	{name: "envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext", translate: tlsMessage, fields: []field{
		ok("trusted_ca"), ok("match_typed_subject_alt_names"), ok("verify_certificate_spki"), ok("verify_certificate_hash"),
		okNote("crl", "checked for every certificate of the chain whose issuer signed a given CRL"), ok("trust_chain_verification"), ok("watched_directory"),
	}},
	{name: "envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher", translate: tlsMessage, fields: oks("san_type", "matcher")},
	{name: "envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig", translate: tlsMessage, fields: oks("name", "sds_config")},
	{name: "envoy.extensions.transport_sockets.tls.v3.TlsSessionTicketKeys", translate: tlsMessage, fields: []field{okNote("keys", "80-byte files, Envoy's format")}},
	{name: "envoy.config.core.v3.ConfigSource", translate: tlsMessage, fields: []field{
		okNote("path_config_source", "a watched file holding a DiscoveryResponse (dynamic_resources) or Secrets (SDS)"),
		okNote("ads", "over the ADS stream of ads_config (also SDS secrets and, for http_connection_manager rds, route configurations)"),
		own("api_config_source", "a per-type stream (dynamic_resources only)"),
		own("initial_fetch_timeout", "default 15s; 0 waits forever (dynamic_resources only)"),
		ignored("resource_api_version", "v3 is the only one"),
	}},
	{name: "envoy.config.core.v3.AggregatedConfigSource", translate: tlsMessage},
	{name: "envoy.config.core.v3.PathConfigSource", translate: tlsMessage, fields: []field{
		ok("path"), okNote("watched_directory", "a rename into this directory triggers a reload; sluice also polls the file"),
	}},
	{name: "envoy.config.core.v3.WatchedDirectory", translate: tlsMessage, fields: oks("path")},
	{name: "envoy.config.core.v3.DataSource", translate: dataSource, fields: []field{
		own("filename", "read at load (a TLS file: its path, re-read when it changes)"), own("inline_string", ""), own("inline_bytes", ""),
		own("environment_variable", "read at load"),
	}},
}

// transportSocket translates a TransportSocket into its TLS context: the
// chain's (DownstreamTlsContext) or the cluster's (UpstreamTlsContext).
func transportSocket(t *translator, m protoreflect.Message, env, slu string) any {
	fd := m.Descriptor().Fields().ByName("typed_config")
	tc := config.Join(env, "typed_config")
	if !m.Has(fd) {
		t.errs.Add(tc, "required: envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext (listeners) or UpstreamTlsContext (clusters)")
		return nil
	}
	inner, err := unpack(m.Get(fd).Message())
	if err != nil {
		t.errs.Add(tc, "%v", err)
		return nil
	}
	_, down := inner.Interface().(*tlsv3.DownstreamTlsContext)
	_, up := inner.Interface().(*tlsv3.UpstreamTlsContext)
	cluster := strings.HasPrefix(slu, "clusters")
	switch {
	case down && cluster:
		t.errs.Add(config.Join(tc, "@type"), "a cluster takes UpstreamTlsContext")
		return nil
	case up && !cluster:
		t.errs.Add(config.Join(tc, "@type"), "a filter chain takes DownstreamTlsContext")
		return nil
	case !down && !up:
		t.errs.Add(config.Join(tc, "@type"), "%s: not supported by sluice here (a TLS context is)", inner.Descriptor().FullName())
		return nil
	}
	return t.message(inner, tc, slu)
}

// tlsMessage copies a TLS message's supported fields under their own
// names (sluice's TLS model uses Envoy's), except that data sources keep
// their form (a file stays a file name, so that it can be re-read when
// the certificate rotates) and enums keep Envoy's spelling.
func tlsMessage(t *translator, m protoreflect.Message, env, slu string) any {
	spec := specs[m.Descriptor().FullName()]
	out := map[string]any{}
	fds := m.Descriptor().Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		f := spec.field(fd.Name())
		if !m.Has(fd) || f == nil || f.ignored {
			continue
		}
		name := string(fd.Name())
		fe, fs := config.Join(env, name), config.Join(slu, name)
		if fd.Kind() == protoreflect.MessageKind && fd.Message().FullName() == "envoy.config.core.v3.DataSource" {
			if fd.IsList() {
				l := m.Get(fd).List()
				items := make([]any, l.Len())
				for j := range items {
					items[j] = tlsData(t, l.Get(j).Message(), config.Index(fe, j), config.Index(fs, j))
				}
				out[name] = items
			} else {
				out[name] = tlsData(t, m.Get(fd).Message(), fe, fs)
			}
			continue
		}
		out[name] = t.fieldValue(m, fd, fe, fs)
	}
	return out
}

// tlsData keeps a DataSource as a mapping; a relative file name is made
// absolute (Envoy opens it from its working directory; sluice would
// resolve it against the config file's).
func tlsData(t *translator, m protoreflect.Message, env, slu string) any {
	t.paths[slu] = env
	fds := m.Descriptor().Fields()
	out := map[string]any{}
	for _, n := range []protoreflect.Name{"filename", "inline_string", "inline_bytes", "environment_variable"} {
		fd := fds.ByName(n)
		if !m.Has(fd) {
			continue
		}
		v := scalar(fd, m.Get(fd))
		if n == "filename" {
			abs, err := filepath.Abs(v.(string))
			if err != nil {
				t.errs.Add(config.Join(env, "filename"), "%v", err)
			}
			v = abs
		}
		out[string(n)] = v
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
