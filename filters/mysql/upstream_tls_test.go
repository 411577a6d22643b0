package mysql

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"net"
	"testing"
	"time"

	gm "github.com/go-mysql-org/go-mysql/mysql"

	codec "github.com/sluice-proxy/sluice/codec/mysql"
	"github.com/sluice-proxy/sluice/config"
)

// authStep is one connection-phase packet after the greeting, numbered as
// on a connection where nobody speaks TLS (HandshakeResponse = 1).
type authStep struct {
	fromClient bool
	seq        byte
	payload    []byte
}

func cl(seq byte, p []byte) authStep { return authStep{true, seq, p} }
func sv(seq byte, p []byte) authStep { return authStep{false, seq, p} }

var (
	okPkt   = codec.AppendOK(nil, 0, 0, 0, gm.SERVER_STATUS_AUTOCOMMIT, 0)[4:]
	errPkt  = codec.AppendErr(nil, 0, 1045, "28000", "Access denied")[4:]
	hrBytes = login()[4:]
)

// authFlows are the connection phases of the auth plugins sluice must carry
// over a TLS server leg.
var authFlows = []struct {
	name   string
	steps  []authStep
	failed bool // the login ends with ERR: no command phase
}{
	{name: "mysql_native_password", steps: []authStep{cl(1, hrBytes), sv(2, okPkt)}},
	{name: "caching_sha2_password fast", steps: []authStep{cl(1, hrBytes), sv(2, []byte{1, 3}), sv(3, okPkt)}},
	{name: "caching_sha2_password full, public key", steps: []authStep{
		cl(1, hrBytes), sv(2, []byte{1, 4}), cl(3, []byte{2}), sv(4, []byte("\x01-----BEGIN PUBLIC KEY-----")),
		cl(5, bytes.Repeat([]byte{0xab}, 256)), sv(6, okPkt)}},
	{name: "ed25519 via auth switch", steps: []authStep{
		cl(1, hrBytes), sv(2, []byte("\xfeclient_ed25519\x00abcdefghijklmnopqrstuvwxyz012345\x00")),
		cl(3, bytes.Repeat([]byte{7}, 64)), sv(4, okPkt)}},
	{name: "login failed", steps: []authStep{cl(1, hrBytes), sv(2, errPkt)}, failed: true},
}

// scriptServer accepts one connection and plays the server's side of steps,
// checking what it receives; with useTLS it expects the SSLRequest first.
func scriptServer(t *testing.T, cert *testCert, offerTLS, useTLS bool, steps []authStep, failed bool) (string, chan error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	res := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			res <- err
			return
		}
		defer c.Close()
		res <- playServer(c, cert, offerTLS, useTLS, steps, failed)
	}()
	return ln.Addr().String(), res
}

func playServer(c net.Conn, cert *testCert, offerTLS, useTLS bool, steps []authStep, failed bool) error {
	g := greeting()
	if offerTLS {
		offerSSL(g)
	}
	if _, err := c.Write(g); err != nil {
		return err
	}
	shift := byte(0)
	if useTLS {
		p, err := readPkt(c)
		if err != nil {
			return fmt.Errorf("server: SSLRequest: %w", err)
		}
		if p.seq != 1 || len(p.payload) != sslRequestLen || !bytes.Equal(p.payload[4:], hrBytes[4:sslRequestLen]) ||
			p.payload[1]&byte(gm.CLIENT_SSL>>8) == 0 {
			return fmt.Errorf("server: bad SSLRequest seq %d %x", p.seq, p.payload)
		}
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert.tls}})
		if err := tc.Handshake(); err != nil {
			return fmt.Errorf("server: TLS: %w", err)
		}
		c, shift = tc, 1
	}
	for i, st := range steps {
		if !st.fromClient {
			if err := writePkt(c, st.seq+shift, st.payload); err != nil {
				return err
			}
			continue
		}
		p, err := readPkt(c)
		if err != nil {
			return fmt.Errorf("server: step %d: %w", i, err)
		}
		want := st.payload
		if i == 0 { // the HandshakeResponse: CLIENT_SSL iff this leg is TLS
			want = bytes.Clone(want)
			want[1] &^= byte(gm.CLIENT_SSL >> 8)
			if useTLS {
				want[1] |= byte(gm.CLIENT_SSL >> 8)
			}
		}
		if p.seq != st.seq+shift || !bytes.Equal(p.payload, want) {
			return fmt.Errorf("server: step %d: got seq %d %x, want seq %d %x", i, p.seq, p.payload, st.seq+shift, want)
		}
	}
	if failed {
		return nil
	}
	p, err := readPkt(c) // the command phase restarts at 0 on both legs
	if err != nil || p.seq != 0 || p.payload[0] != gm.COM_QUERY {
		return fmt.Errorf("server: command: seq %d, %v", p.seq, err)
	}
	return writePkt(c, 1, okPkt)
}

// playClient plays the client's side through sluice; with useTLS it asks
// sluice for TLS first (terminate_ssl).
func playClient(addr string, useTLS bool, steps []authStep, failed bool) error {
	raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	var c net.Conn = raw
	g, err := readPkt(c)
	if err != nil || g.seq != 0 || g.payload[0] != 10 {
		return fmt.Errorf("client: greeting seq %d %x: %v", g.seq, g.payload, err)
	}
	shift := byte(0)
	if useTLS {
		hr := bytes.Clone(hrBytes)
		hr[1] |= byte(gm.CLIENT_SSL >> 8)
		if err := writePkt(c, 1, hr[:sslRequestLen]); err != nil {
			return err
		}
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
		if err := tc.Handshake(); err != nil {
			return fmt.Errorf("client: TLS: %w", err)
		}
		c, shift = tc, 1
	}
	for i, st := range steps {
		if st.fromClient {
			p := st.payload
			if i == 0 && useTLS {
				p = bytes.Clone(p)
				p[1] |= byte(gm.CLIENT_SSL >> 8)
			}
			if err := writePkt(c, st.seq+shift, p); err != nil {
				return err
			}
			continue
		}
		p, err := readPkt(c)
		if err != nil || p.seq != st.seq+shift || !bytes.Equal(p.payload, st.payload) {
			return fmt.Errorf("client: step %d: got seq %d %x (%v), want seq %d %x", i, p.seq, p.payload, err, st.seq+shift, st.payload)
		}
	}
	if failed {
		return nil
	}
	if err := writePkt(c, 0, []byte{gm.COM_QUERY, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1'}); err != nil {
		return err
	}
	if p, err := readPkt(c); err != nil || p.seq != 1 || p.payload[0] != gm.OK_HEADER {
		return fmt.Errorf("client: command answer seq %d %x: %v", p.seq, p.payload, err)
	}
	return nil
}

// TestConnPhaseSequenceIDs runs every auth flow through sluice in the four
// TLS layouts (client→sluice plain or terminated, sluice→server plain or
// upstream_ssl) with scripted peers that check every sequence id and
// payload they get: the connection phase is shifted so that each side sees
// its own numbering, the HandshakeResponse carries CLIENT_SSL exactly when
// the server leg is TLS, and commands restart at 0 on both legs.
func TestConnPhaseSequenceIDs(t *testing.T) {
	cert := newTestCert(t)
	for _, mode := range []struct{ terminate, upstream bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		for _, fl := range authFlows {
			name := fmt.Sprintf("terminate=%v/upstream=%v/%s", mode.terminate, mode.upstream, fl.name)
			t.Run(name, func(t *testing.T) {
				srv, res := scriptServer(t, cert, true, mode.upstream, fl.steps, fl.failed)
				cfg := &Config{StatPrefix: "t", MaxSQLBytes: 4096, UpstreamSSL: UpstreamSSLDisable}
				if mode.terminate {
					cfg.TerminateSSL = cert.terminate()
				}
				if mode.upstream {
					cfg.UpstreamSSL = UpstreamSSLRequire
				}
				p := startProxy(t, cfg, srv)
				if err := playClient(p.addr(), mode.terminate, fl.steps, fl.failed); err != nil {
					t.Fatal(err)
				}
				if err := <-res; err != nil {
					t.Fatal(err)
				}
				st := p.f.stats
				wantOK := uint64(0)
				if mode.upstream {
					wantOK = 1
				}
				if st.UpstreamSSLSuccess.Value() != wantOK || st.UpstreamSSLFailed.Value() != 0 ||
					st.ProtocolErrors.Value() != 0 || st.DecoderErrors.Value() != 0 || st.LoginAttempts.Value() != 1 {
					t.Fatalf("upstream_ssl_success %d failed %d protocol_errors %d decoder_errors %d login_attempts %d",
						st.UpstreamSSLSuccess.Value(), st.UpstreamSSLFailed.Value(), st.ProtocolErrors.Value(),
						st.DecoderErrors.Value(), st.LoginAttempts.Value())
				}
				wantFail := uint64(0)
				if fl.failed {
					wantFail = 1
				}
				if st.LoginFailures.Value() != wantFail {
					t.Fatalf("login_failures = %d, want %d", st.LoginFailures.Value(), wantFail)
				}
			})
		}
	}
}

// TestUpstreamSSLServerWithoutTLS: a greeting without CLIENT_SSL fails the
// session before the client sees it; the client gets ERR 1043 instead and
// upstream_ssl_failed counts it.
func TestUpstreamSSLServerWithoutTLS(t *testing.T) {
	srv, _ := scriptServer(t, nil, false, false, nil, true)
	p := startProxy(t, &Config{StatPrefix: "t", MaxSQLBytes: 4096, UpstreamSSL: UpstreamSSLRequire}, srv)
	c, err := net.Dial("tcp", p.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	g, err := readPkt(c)
	if err != nil || g.seq != 0 || g.payload[0] != gm.ERR_HEADER || g.payload[1] != byte(gm.ER_HANDSHAKE_ERROR&0xff) ||
		!bytes.Contains(g.payload, []byte("does not offer TLS")) {
		t.Fatalf("first packet seq %d %q (%v); want ERR 1043", g.seq, g.payload, err)
	}
	if werr := <-p.wrapErrs; !errors.Is(werr, errNoUpstreamSSL) {
		t.Fatalf("wrapper error %v, want errNoUpstreamSSL", werr)
	}
	if n := p.f.stats.UpstreamSSLFailed.Value(); n != 1 {
		t.Fatalf("upstream_ssl_failed = %d, want 1", n)
	}
}

// TestUpstreamTLSVerification: upstream_tls checks the server's chain and
// name; a mismatch fails the handshake and is counted.
func TestUpstreamTLSVerification(t *testing.T) {
	cert := newTestCert(t)
	other := newTestCert(t)
	for _, tc := range []struct {
		name    string
		up      *UpstreamTLS
		wantErr bool
	}{
		{name: "unverified", up: nil},
		{name: "ca and name", up: &UpstreamTLS{CAFile: cert.certFile, ServerName: "db.test"}},
		{name: "ca only", up: &UpstreamTLS{CAFile: cert.certFile}},
		{name: "wrong name", up: &UpstreamTLS{CAFile: cert.certFile, ServerName: "other.test"}, wantErr: true},
		{name: "wrong ca", up: &UpstreamTLS{CAFile: other.certFile}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fl := authFlows[0]
			srv, res := scriptServer(t, cert, true, true, fl.steps, fl.failed)
			p := startProxy(t, &Config{StatPrefix: "t", MaxSQLBytes: 4096, UpstreamSSL: UpstreamSSLRequire, UpstreamTLS: tc.up}, srv)
			err := playClient(p.addr(), false, fl.steps, fl.failed)
			if (err != nil) != tc.wantErr {
				t.Fatalf("client: %v, wantErr %v", err, tc.wantErr)
			}
			if serr := <-res; (serr != nil) != tc.wantErr {
				t.Fatalf("server: %v, wantErr %v", serr, tc.wantErr)
			}
			ok, failed := p.f.stats.UpstreamSSLSuccess.Value(), p.f.stats.UpstreamSSLFailed.Value()
			if tc.wantErr != (failed == 1 && ok == 0) || !tc.wantErr != (ok == 1 && failed == 0) {
				t.Fatalf("upstream_ssl_success %d failed %d, wantErr %v", ok, failed, tc.wantErr)
			}
		})
	}
}

// TestUpstreamSSLConfig: validation with field paths.
func TestUpstreamSSLConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "default", cfg: *NewConfig()},
		{name: "require", cfg: Config{UpstreamSSL: UpstreamSSLRequire}},
		{name: "require verified", cfg: Config{UpstreamSSL: UpstreamSSLRequire, UpstreamTLS: &UpstreamTLS{ServerName: "db"}}},
		{name: "bad mode", cfg: Config{UpstreamSSL: "prefer"}, wantErr: "f.upstream_ssl: must be disable or require"},
		{name: "tls without require", cfg: Config{UpstreamSSL: UpstreamSSLDisable, UpstreamTLS: &UpstreamTLS{CAFile: "x"}},
			wantErr: "f.upstream_tls: only used with upstream_ssl: require"},
		{name: "empty upstream_tls", cfg: Config{UpstreamSSL: UpstreamSSLRequire, UpstreamTLS: &UpstreamTLS{}},
			wantErr: "f.upstream_tls: needs ca_file, server_name or both"},
		{name: "no parse cache", cfg: Config{UpstreamSSL: UpstreamSSLDisable, ParseCacheSize: 0}},
		{name: "negative parse cache", cfg: Config{UpstreamSSL: UpstreamSSLDisable, ParseCacheSize: -1},
			wantErr: "f.parse_cache_size: must be between 0 and 1048576, got -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.StatPrefix, tc.cfg.MaxSQLBytes = "t", 4096
			var errs config.Errors
			tc.cfg.Validate("f", &errs)
			err := errs.Err()
			if (err != nil) != (tc.wantErr != "") || (err != nil && !bytes.Contains([]byte(err.Error()), []byte(tc.wantErr))) {
				t.Fatalf("Validate: %v, want %q", err, tc.wantErr)
			}
		})
	}
	if _, err := upstreamTLSConfig(&UpstreamTLS{CAFile: "/nonexistent/ca.pem"}); err == nil {
		t.Fatal("missing ca_file accepted")
	}
}

// TestUpstreamSSLClientLeavesEarly: a client that hangs up after the
// greeting, before any HandshakeResponse, ends the session: the server-side
// reader waiting for the upgrade is released (no goroutine is left).
func TestUpstreamSSLClientLeavesEarly(t *testing.T) {
	cert := newTestCert(t)
	srv, res := scriptServer(t, cert, true, true, authFlows[0].steps, false)
	p := startProxy(t, &Config{StatPrefix: "t", MaxSQLBytes: 4096, UpstreamSSL: UpstreamSSLRequire}, srv)
	c, err := net.Dial("tcp", p.addr())
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := readPkt(c); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := <-res; err == nil {
		t.Fatal("server: the session went on without a client")
	}
	poll.Eventually(t, 5*time.Second, func() bool { return p.active.Load() == 0 },
		"the proxied connection is still being handled after the client left")
	if p.f.stats.UpstreamSSLSuccess.Value() != 0 || p.f.stats.UpstreamSSLFailed.Value() != 0 {
		t.Fatalf("success %d failed %d; a session that never logged in counts neither",
			p.f.stats.UpstreamSSLSuccess.Value(), p.f.stats.UpstreamSSLFailed.Value())
	}
}
