// Package tlsctx builds sluice's TLS contexts from Envoy's
// DownstreamTlsContext and UpstreamTlsContext (config.TLSContext,
// config.UpstreamTLSContext): several certificates chosen by SNI and key
// type, client and server verification (trusted CA, typed SAN matchers,
// SPKI and certificate hash pins, CRLs, ACCEPT_UNTRUSTED), protocol
// versions, OpenSSL cipher and curve names, ALPN, session tickets with
// Envoy's 80-byte key files, OCSP staples, and Envoy's ssl.* stats.
//
// Everything cryptographic is crypto/tls and crypto/x509; this package only
// maps Envoy's vocabulary onto them, which is why it is hand-written: no
// library speaks Envoy's config. Certificates, keys, CAs, CRLs and ticket
// keys are re-read while the context runs (a file that changed, a secret
// mount whose ..data link was swapped, an SDS file or a SecretSource with
// a new version): new handshakes use the new material, open connections
// keep theirs. A half-rotated pair (new certificate, old key) fails to
// load and the old material stays until the next read sees a whole pair.
package tlsctx
