package tlsctx

import (
	"crypto/tls"
	"errors"
	"sync"

	"github.com/sluice-proxy/sluice/stats"
)

// Stats are Envoy's ssl.* counters of one listener or cluster scope
// (listener.<addr>.ssl.*, cluster.<name>.ssl.*). Signature algorithms are
// not counted: crypto/tls does not report the one a handshake used.
type Stats struct {
	scope                                         *stats.Scope
	Handshake, ConnectionError, NoCertificate     *stats.Counter
	FailVerifyNoCert, FailVerifyError, FailVerSAN *stats.Counter
	FailVerifyCertHash, SessionReused             *stats.Counter
	// ContextUpdate counts new material loaded while running (a rotated
	// certificate, CA or key); Envoy's ssl_context_update_by_sds.
	ContextUpdate *stats.Counter
	// UpdateFailed counts reads of changed material that did not load (a
	// half-rotated pair); the old material stays.
	UpdateFailed *stats.Counter

	mu      sync.Mutex
	dynamic map[string]*stats.Counter
}

// NewStats creates the counters under scope (a listener's or cluster's);
// factory names Envoy's socket factory scope, "server_ssl_socket_factory"
// or "client_ssl_socket_factory".
func NewStats(scope *stats.Scope, factory string) *Stats {
	ssl := scope.Sub("ssl")
	f := scope.Sub(factory)
	return &Stats{scope: ssl,
		Handshake: ssl.Counter("handshake"), ConnectionError: ssl.Counter("connection_error"),
		NoCertificate: ssl.Counter("no_certificate"), FailVerifyNoCert: ssl.Counter("fail_verify_no_cert"),
		FailVerifyError: ssl.Counter("fail_verify_error"), FailVerSAN: ssl.Counter("fail_verify_san"),
		FailVerifyCertHash: ssl.Counter("fail_verify_cert_hash"), SessionReused: ssl.Counter("session_reused"),
		ContextUpdate: f.Counter("ssl_context_update_by_sds"), UpdateFailed: f.Counter("ssl_context_update_failed"),
		dynamic: map[string]*stats.Counter{},
	}
}

// counter returns ssl.<group>.<name>, created on first use.
func (s *Stats) counter(group, name string) *stats.Counter {
	key := group + "." + name
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.dynamic[key]
	if c == nil {
		c = s.scope.Sub(group).Counter(name)
		s.dynamic[key] = c
	}
	return c
}

// success counts a completed handshake.
func (s *Stats) success(cs *tls.ConnectionState) {
	if s == nil {
		return
	}
	s.Handshake.Inc()
	if cs.DidResume {
		s.SessionReused.Inc()
	}
	s.counter("versions", versionName(cs.Version)).Inc()
	if n := cipherNames[cs.CipherSuite]; n != "" {
		s.counter("ciphers", n).Inc()
	}
	if n := curveName(cs.CurveID); n != "" {
		s.counter("curves", n).Inc()
	}
}

// failure counts a failed handshake by its cause.
func (s *Stats) failure(err error) {
	if s == nil {
		return
	}
	s.ConnectionError.Inc()
	var ve *VerifyError
	if !errors.As(err, &ve) {
		return
	}
	switch ve.kind {
	case failNoCert:
		s.FailVerifyNoCert.Inc()
	case failSAN:
		s.FailVerSAN.Inc()
	case failCertHash:
		s.FailVerifyCertHash.Inc()
	default:
		s.FailVerifyError.Inc()
	}
}
