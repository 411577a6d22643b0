package mysql

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	gm "github.com/go-mysql-org/go-mysql/mysql"

	codec "github.com/sluice-proxy/sluice/codec/mysql"
)

// upstream_ssl: require, in order:
//
//  1. the terminal dials and calls the session's upstream wrapper
//     (wrapUpstream), which reads the server's greeting and checks
//     CLIENT_SSL before the client sees anything;
//  2. the greeting reaches the client unchanged (or offering CLIENT_SSL
//     under terminate_ssl);
//  3. the client's HandshakeResponse (after its own TLS, under
//     terminate_ssl) gets CLIENT_SSL and sequence id 2 in conn.complete;
//  4. upstreamConn.Write sees it first, sends the server an SSLRequest made
//     of its 32-byte prefix with sequence id 1, runs TLS, and sends it;
//  5. the rest of the connection phase is shifted by conn (seqDelta) until
//     the login ends; commands restart at sequence id 0 on both legs.

// errNoUpstreamSSL is a server greeting without CLIENT_SSL.
var errNoUpstreamSSL = errors.New("the server's greeting does not offer TLS (no CLIENT_SSL)")

// upstreamTLSConfig builds the TLS client config for upstream_ssl: require.
func upstreamTLSConfig(u *UpstreamTLS) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if u == nil {
		// --ssl-mode=REQUIRED: encrypted, not authenticated (documented).
		tc.InsecureSkipVerify = true //nolint:gosec // the documented default, as the MySQL client's
		return tc, nil
	}
	if u.CAFile != "" {
		pem, err := os.ReadFile(u.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mysql_proxy: upstream_tls: reading ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mysql_proxy: upstream_tls: %s has no PEM certificates", u.CAFile)
		}
		tc.RootCAs = pool
	}
	tc.ServerName = u.ServerName
	if u.ServerName == "" {
		// VERIFY_CA: the chain against ca_file, whatever name it carries.
		tc.InsecureSkipVerify = true //nolint:gosec // replaced by VerifyConnection below
		roots := tc.RootCAs
		tc.VerifyConnection = func(cs tls.ConnectionState) error { return verifyChain(cs, roots) }
	}
	return tc, nil
}

// verifyChain verifies the peer's chain against roots, ignoring its names.
func verifyChain(cs tls.ConnectionState, roots *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("mysql_proxy: upstream_tls: the server sent no certificate")
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
		return fmt.Errorf("mysql_proxy: upstream_tls: %w", err)
	}
	return nil
}

// wrapUpstream is the session's upstream wrapper under upstream_ssl:
// require. It reads the server's greeting; without CLIENT_SSL it answers
// the client with an ERR packet and fails the session; otherwise it returns
// the connection that upgrades itself at the client's HandshakeResponse.
func (c *conn) wrapUpstream(ctx context.Context, up net.Conn) (net.Conn, error) {
	dl := time.Now().Add(handshakeTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	up.SetReadDeadline(dl)
	g, err := readPacket(up, maxConnPhaseBuf)
	up.SetReadDeadline(time.Time{})
	if err != nil {
		c.f.stats.UpstreamSSLFailed.Inc()
		return nil, fmt.Errorf("mysql_proxy: upstream_ssl: reading the server's greeting: %w", err)
	}
	u := newUpstreamConn(c, up, g)
	if len(g) > 4 && g[4] == gm.ERR_HEADER {
		// "Too many connections", "Host blocked": the client gets the
		// server's own reason, and the server closes.
		u.plain()
		return u, nil
	}
	if !greetingOffersSSL(g) {
		c.f.stats.UpstreamSSLFailed.Inc()
		c.answerNoSSL()
		return nil, fmt.Errorf("mysql_proxy: upstream_ssl: %w", errNoUpstreamSSL)
	}
	c.upTLS.Store(true)
	return u, nil
}

// answerNoSSL tells the client, in place of the greeting, why the session
// ends (ER_HANDSHAKE_ERROR); a failed write changes nothing.
func (c *conn) answerNoSSL() {
	pkt := codec.AppendErr(nil, 0, gm.ER_HANDSHAKE_ERROR, "08S01",
		"sluice: upstream_ssl is require and the server does not offer TLS")
	c.wmu.Lock()
	c.down.Write(pkt)
	c.wmu.Unlock()
}

// readPacket reads one whole packet (header included) of at most limit
// payload bytes.
func readPacket(r io.Reader, limit int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	if n > limit {
		return nil, fmt.Errorf("packet of %d bytes, more than %d", n, limit)
	}
	pkt := make([]byte, 4+n)
	copy(pkt, hdr[:])
	if _, err := io.ReadFull(r, pkt[4:]); err != nil {
		return nil, fmt.Errorf("packet body: %w", err)
	}
	return pkt, nil
}

// greetingCapsAt returns the offset in pkt of a v10 greeting's lower
// capability flags (2 bytes), or -1 when pkt is not such a greeting.
func greetingCapsAt(pkt []byte) int {
	if len(pkt) < 5 || pkt[4] != 10 {
		return -1
	}
	i := 5
	for i < len(pkt) && pkt[i] != 0 {
		i++
	}
	i += 1 + 4 + 8 + 1 // NUL, connection id, auth data part 1, filler
	if i+2 > len(pkt) {
		return -1
	}
	return i
}

// greetingOffersSSL reports whether a greeting packet sets CLIENT_SSL.
func greetingOffersSSL(pkt []byte) bool {
	i := greetingCapsAt(pkt)
	return i >= 0 && pkt[i+1]&byte(gm.CLIENT_SSL>>8) != 0
}
