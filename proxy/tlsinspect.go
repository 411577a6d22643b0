package proxy

import (
	"errors"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/stats"
)

// tlsInspector is envoy.filters.listener.tls_inspector: it reads the
// ClientHello without consuming it (inspectHello) and sets the transport
// protocol "tls", the SNI and the ALPN list for chain matching.
type tlsInspector struct {
	closeOnParseError bool
	st                tlsInspectorStats
}

// tlsInspectorStats are Envoy's tls_inspector.* counters.
type tlsInspectorStats struct {
	tlsFound, tlsNotFound, sniFound, sniNotFound, alpnFound, alpnNotFound, tooLarge *stats.Counter
}

func newTLSInspector(c *config.TLSInspectorConfig, root *stats.Scope) *tlsInspector {
	sc := lfScope(root).Sub("tls_inspector")
	return &tlsInspector{closeOnParseError: c.CloseConnectionOnClientHelloParsingErrors, st: tlsInspectorStats{
		tlsFound: sc.Counter("tls_found"), tlsNotFound: sc.Counter("tls_not_found"),
		sniFound: sc.Counter("sni_found"), sniNotFound: sc.Counter("sni_not_found"),
		alpnFound: sc.Counter("alpn_found"), alpnNotFound: sc.Counter("alpn_not_found"),
		tooLarge: sc.Counter("client_hello_too_large"),
	}}
}

// lfScope returns root, or a scope of a private store for chains built
// without stats (tests that build an Env by hand).
func lfScope(root *stats.Scope) *stats.Scope {
	if root == nil {
		return stats.New().Root()
	}
	return root
}

func (t *tlsInspector) inspect(lc *lfConn) error {
	if lc.facts.transport != "" {
		return nil // another inspector decided (http_inspector saw HTTP)
	}
	r := lc.reader()
	prefix, isTLS, sni, alpn, err := inspectHello(r)
	// Bytes an earlier filter read ahead and the inspector did not reach.
	lc.buf = append(prefix, r.Prefix...)
	switch {
	case errors.Is(err, errTooLong):
		t.st.tooLarge.Inc()
		return err
	case errors.Is(err, errNotHello):
		t.st.tlsNotFound.Inc()
		if t.closeOnParseError {
			return err
		}
		return nil
	case err != nil:
		return err
	}
	if !isTLS {
		t.st.tlsNotFound.Inc()
		return nil
	}
	t.st.tlsFound.Inc()
	lc.facts.isTLS, lc.facts.transport, lc.facts.sni, lc.facts.alpn = true, "tls", sni, alpn
	lc.s.SNI, lc.s.ALPN = sni, alpn
	if sni != "" {
		t.st.sniFound.Inc()
	} else {
		t.st.sniNotFound.Inc()
	}
	if len(alpn) > 0 {
		t.st.alpnFound.Inc()
	} else {
		t.st.alpnNotFound.Inc()
	}
	return nil
}
