package postgres

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/stats"
)

// fakeConn is a client connection: Read drains in, Write appends to out.
type fakeConn struct {
	in  io.Reader
	out bytes.Buffer
}

func (f *fakeConn) Read(p []byte) (int, error)       { return f.in.Read(p) }
func (f *fakeConn) Write(p []byte) (int, error)      { return f.out.Write(p) }
func (f *fakeConn) Close() error                     { return nil }
func (f *fakeConn) CloseWrite() error                { return nil }
func (f *fakeConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (f *fakeConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (f *fakeConn) SetDeadline(time.Time) error      { return nil }
func (f *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (f *fakeConn) SetWriteDeadline(time.Time) error { return nil }

// newTestFilter builds a filter with its own stats store.
func newTestFilter(t testing.TB, mod func(*Config)) (*Filter, *stats.Store) {
	t.Helper()
	cfg := NewConfig()
	cfg.StatPrefix = "t"
	if mod != nil {
		mod(cfg)
	}
	st := stats.New()
	f, err := New(cfg, &filters.Env{Stats: st.Root(), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return f, st
}

func newSession() *filters.Session {
	return &filters.Session{Log: slog.New(slog.DiscardHandler)}
}

// enc concatenates encoded protocol messages.
func enc(t testing.TB, msgs ...interface {
	Encode([]byte) ([]byte, error)
}) []byte {
	t.Helper()
	var b []byte
	for _, m := range msgs {
		var err error
		if b, err = m.Encode(b); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// raw is an already encoded message.
type raw []byte

func (r raw) Encode(dst []byte) ([]byte, error) { return append(dst, r...), nil }

// startup returns a StartupMessage with its parameters in a fixed order
// (pgproto3 encodes a map, in random order).
func startup(db, user string) raw {
	b := []byte{0, 0, 0, 0, 0, 3, 0, 0}
	b = append(append(append(b, "user\x00"...), user...), 0)
	b = append(append(append(b, "database\x00"...), db...), 0, 0)
	b[3] = byte(len(b))
	return raw(b)
}

// session runs one connection: Observe over client, all client bytes read
// through the filter (what the server gets), then server written through it
// (what the client gets), then late read through it. It returns what the
// server and the client got and the first error other than EOF.
func session(t testing.TB, f *Filter, s *filters.Session, client, server, late []byte) (toServer, toClient []byte, err error) {
	t.Helper()
	fc := &fakeConn{in: bytes.NewReader(client)}
	c, err := f.Observe(s, fc)
	if err != nil {
		return nil, nil, err
	}
	var up bytes.Buffer
	buf := make([]byte, 7) // small reads: messages cross chunk boundaries
	drain := func() error {
		for {
			n, rerr := c.Read(buf)
			up.Write(buf[:n])
			if rerr == io.EOF {
				return nil
			}
			if rerr != nil {
				return rerr
			}
		}
	}
	if err := drain(); err != nil {
		return up.Bytes(), nil, err
	}
	for i := 0; i < len(server); i += 5 {
		if _, werr := c.Write(server[i:min(i+5, len(server))]); werr != nil {
			return up.Bytes(), fc.out.Bytes(), werr
		}
	}
	if len(late) > 0 {
		fc.in = bytes.NewReader(late)
		if c, ok := c.(*conn); ok && c.g != nil {
			c.g.hold.Fail(nil) // the fake's first EOF was sticky on the gated path
		}
		if err := drain(); err != nil {
			return up.Bytes(), fc.out.Bytes(), err
		}
	}
	return up.Bytes(), fc.out.Bytes(), nil
}

// counters reads postgres.t.<name> for each name of want.
func counters(st *stats.Store, want map[string]uint64) map[string]uint64 {
	got := make(map[string]uint64, len(want))
	for name := range want {
		got[name], _ = st.CounterValue("postgres.t." + name)
	}
	return got
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// loopConn is a fakeConn an event loop could take over: Handover hands
// over nothing of its own.
type loopConn struct{ fakeConn }

func (*loopConn) Handover() (filters.Taps, bool, error) { return filters.Taps{}, true, nil }

// handoverSession runs a connection as session does, but after Observe the
// filter's conn is handed over as to an event loop: the client's remaining
// bytes go through OnRead, the server's through OnWrite, in small chunks.
// It returns what the server got (Pending, then the chunks).
func handoverSession(t testing.TB, f *Filter, s *filters.Session, client, server, late []byte) ([]byte, error) {
	t.Helper()
	fc := &loopConn{fakeConn{in: bytes.NewReader(client)}}
	c, err := f.Observe(s, fc)
	if err != nil {
		return nil, err
	}
	h, ok := c.(filters.Handoverable)
	if !ok {
		t.Fatal("postgres_proxy's conn cannot be handed over")
	}
	tp, ok, err := h.Handover()
	if err != nil || !ok {
		return nil, fmt.Errorf("handover: ok=%v err=%v", ok, err)
	}
	up := append([]byte(nil), tp.Pending...)
	rest, _ := io.ReadAll(fc.in)
	feed := func(fn func([]byte) error, b []byte, step int) error {
		for i := 0; i < len(b); i += step {
			if err := fn(b[i:min(i+step, len(b))]); err != nil {
				return err
			}
		}
		return nil
	}
	if err := feed(tp.OnRead, rest, 7); err != nil {
		return up, err
	}
	up = append(up, rest...)
	if err := feed(tp.OnWrite, server, 5); err != nil {
		return up, err
	}
	if err := feed(tp.OnRead, late, 7); err != nil {
		return up, err
	}
	return append(up, late...), nil
}
