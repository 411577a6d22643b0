package tlsctx

import (
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/sluice-proxy/sluice/config"
)

// cipherIDs maps OpenSSL/BoringSSL cipher names (Envoy's spelling) to Go's
// TLS 1.2 suites. TLS 1.3 suites are not configurable in Go (nor, through
// cipher_suites, in Envoy): their names are accepted and have no effect.
var cipherIDs = map[string]uint16{
	"ECDHE-ECDSA-AES128-GCM-SHA256": tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-RSA-AES128-GCM-SHA256":   tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-ECDSA-AES256-GCM-SHA384": tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-RSA-AES256-GCM-SHA384":   tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-ECDSA-CHACHA20-POLY1305": tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	"ECDHE-RSA-CHACHA20-POLY1305":   tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	"ECDHE-ECDSA-AES128-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	"ECDHE-RSA-AES128-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	"ECDHE-ECDSA-AES256-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	"ECDHE-RSA-AES256-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	"AES128-GCM-SHA256":             tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
	"AES256-GCM-SHA384":             tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	"AES128-SHA":                    tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	"AES256-SHA":                    tls.TLS_RSA_WITH_AES_256_CBC_SHA,
}

var tls13Names = map[string]bool{"TLS_AES_128_GCM_SHA256": true, "TLS_AES_256_GCM_SHA384": true, "TLS_CHACHA20_POLY1305_SHA256": true}

// cipherNames is the reverse map, for ssl.ciphers.<name>.
var cipherNames = func() map[uint16]string {
	m := map[uint16]string{
		tls.TLS_AES_128_GCM_SHA256: "TLS_AES_128_GCM_SHA256", tls.TLS_AES_256_GCM_SHA384: "TLS_AES_256_GCM_SHA384",
		tls.TLS_CHACHA20_POLY1305_SHA256: "TLS_CHACHA20_POLY1305_SHA256",
	}
	for n, id := range cipherIDs {
		m[id] = n
	}
	return m
}()

// curveIDs maps Envoy's (OpenSSL) curve names to Go's.
var curveIDs = map[string]tls.CurveID{
	"X25519": tls.X25519, "P-256": tls.CurveP256, "prime256v1": tls.CurveP256, "secp256r1": tls.CurveP256,
	"P-384": tls.CurveP384, "secp384r1": tls.CurveP384, "P-521": tls.CurveP521, "secp521r1": tls.CurveP521,
	"X25519MLKEM768": tls.X25519MLKEM768,
}

// curveName is Envoy's ssl.curves.<name> spelling.
func curveName(id tls.CurveID) string {
	switch id {
	case tls.X25519:
		return "X25519"
	case tls.CurveP256:
		return "P-256"
	case tls.CurveP384:
		return "P-384"
	case tls.CurveP521:
		return "P-521"
	case tls.X25519MLKEM768:
		return "X25519MLKEM768"
	case 0:
		return ""
	}
	return fmt.Sprintf("0x%04x", uint16(id))
}

// versionName is Envoy's ssl.versions.<name> spelling.
func versionName(v uint16) string {
	switch v {
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS10:
		return "TLSv1"
	}
	return fmt.Sprintf("0x%04x", v)
}

func protoVersion(s string, def uint16) uint16 {
	switch s {
	case "TLSv1_2":
		return tls.VersionTLS12
	case "TLSv1_3":
		return tls.VersionTLS13
	}
	return def
}

// defaultCiphers are Envoy's default TLS 1.2 suites: ECDHE with AEAD only
// (no CBC, no RSA key exchange), which is also what testssl.sh wants.
var defaultCiphers = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
}

// defaultCurves are Envoy's default ecdh_curves (X25519, P-256) after Go's
// post-quantum hybrid, which Go offers first by default.
var defaultCurves = []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256}

// applyParams sets versions, suites and curves on tc; path is the
// common_tls_context's, for errors. Both directions default to TLS 1.2
// through 1.3, Envoy's defaults since 1.22 for clients and servers, and to
// Envoy's default suites and curves.
func applyParams(tc *tls.Config, p *config.TLSParameters, path string) error {
	tc.MinVersion, tc.MaxVersion = tls.VersionTLS12, tls.VersionTLS13
	tc.CipherSuites, tc.CurvePreferences = defaultCiphers, defaultCurves
	if p == nil {
		return nil
	}
	if len(p.CipherSuites) > 0 {
		tc.CipherSuites = nil
	}
	if len(p.ECDHCurves) > 0 {
		tc.CurvePreferences = nil
	}
	pp := config.Join(path, "tls_params")
	tc.MinVersion = protoVersion(p.TLSMinimumProtocolVersion, tls.VersionTLS12)
	tc.MaxVersion = protoVersion(p.TLSMaximumProtocolVersion, tls.VersionTLS13)
	if tc.MinVersion > tc.MaxVersion {
		return fmt.Errorf("%s: tls_minimum_protocol_version is above tls_maximum_protocol_version", pp)
	}
	for i, entry := range p.CipherSuites {
		// "[A|B]" is BoringSSL's equal-preference group (Envoy's default list).
		for _, name := range strings.Split(strings.Trim(entry, "[]"), "|") {
			if id, ok := cipherIDs[name]; ok {
				tc.CipherSuites = append(tc.CipherSuites, id)
			} else if !tls13Names[name] {
				return fmt.Errorf("%s: unknown or unsupported cipher %q (known: ECDHE-{ECDSA,RSA}-{AES128-GCM-SHA256,AES256-GCM-SHA384,CHACHA20-POLY1305,AES128-SHA,AES256-SHA}, AES128-GCM-SHA256, AES256-GCM-SHA384, AES128-SHA, AES256-SHA)",
					config.Index(config.Join(pp, "cipher_suites"), i), name)
			}
		}
	}
	for i, name := range p.ECDHCurves {
		id, ok := curveIDs[name]
		if !ok {
			return fmt.Errorf("%s: unknown curve %q (known: X25519, P-256, P-384, P-521, X25519MLKEM768)", config.Index(config.Join(pp, "ecdh_curves"), i), name)
		}
		tc.CurvePreferences = append(tc.CurvePreferences, id)
	}
	return nil
}
