package zookeeper

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	zk "github.com/sluice-proxy/sluice/codec/zookeeper"
	"github.com/sluice-proxy/sluice/config"
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

type rec []byte

func (r rec) i32(v int32) rec  { return binary.BigEndian.AppendUint32(r, uint32(v)) }
func (r rec) i64(v int64) rec  { return binary.BigEndian.AppendUint64(r, uint64(v)) }
func (r rec) str(s string) rec { return append(r.i32(int32(len(s))), s...) }
func (r rec) b(v bool) rec     { return append(r, map[bool]byte{false: 0, true: 1}[v]) }
func (r rec) frame() []byte    { return append(binary.BigEndian.AppendUint32(nil, uint32(len(r))), r...) }
func connectRq(ro bool) []byte {
	return rec{}.i32(0).i64(0).i32(30000).i64(0).str("0123456789abcdef").b(ro).frame()
}
func connectRsp(ro bool) []byte {
	return rec{}.i32(0).i32(4000).i64(7).str("0123456789abcdef").b(ro).frame()
}

func newTestFilter(t testing.TB, mod func(*Config)) (*Filter, *stats.Store) {
	t.Helper()
	cfg := NewConfig()
	cfg.StatPrefix = "t"
	if mod != nil {
		mod(cfg)
	}
	var errs config.Errors
	cfg.Validate("zookeeper_proxy", &errs)
	if err := errs.Err(); err != nil {
		t.Fatal(err)
	}
	st := stats.New()
	f, err := New(cfg, &filters.Env{Stats: st.Root()})
	if err != nil {
		t.Fatal(err)
	}
	return f, st
}

func newSession() *filters.Session { return &filters.Session{Log: slog.New(slog.DiscardHandler)} }

func meta(t *testing.T, s *filters.Session) map[string]string {
	t.Helper()
	v, ok := s.Metadata(MetadataNamespace)
	if !ok {
		t.Fatal("no metadata")
	}
	return v.(interface{ Map() map[string]string }).Map()
}

// TestMetadata: each message's metadata with Envoy's keys and values.
func TestMetadata(t *testing.T) {
	f, st := newTestFilter(t, func(c *Config) { c.EnablePerOpcodeRequestBytesMetrics = true })
	s := newSession()
	create := rec{}.i32(5).i32(int32(zk.OpCreate)).str("/a/e").str("d").i32(0).i32(1).frame()
	steps := []struct {
		client, server []byte
		want           map[string]string
	}{
		{client: connectRq(true), want: map[string]string{"opname": "connect_readonly", "bytes": "49"}},
		{server: connectRsp(true), want: map[string]string{"opname": "connect_response", "protocol_version": "0",
			"timeout": "4000", "readonly": "1", "bytes": "41"}},
		{client: rec{}.i32(4).i32(int32(zk.OpGetData)).str("/a").b(true).frame(),
			want: map[string]string{"opname": "getdata", "path": "/a", "watch": "true", "bytes": "19"}},
		{client: create, want: map[string]string{"opname": "create", "path": "/a/e", "create_type": "ephemeral", "bytes": "33"}},
		{client: rec{}.i32(6).i32(int32(zk.OpDelete)).str("/a/e").i32(3).frame(),
			want: map[string]string{"opname": "delete", "path": "/a/e", "version": "3", "bytes": "24"}},
		{server: rec{}.i32(4).i64(77).i32(0).str("value").frame(),
			want: map[string]string{"opname": "getdata_resp", "xid": "4", "zxid": "77", "error": "0", "bytes": "29"}},
		{server: rec{}.i32(-1).i64(78).i32(0).i32(3).i32(3).str("/a").frame(),
			want: map[string]string{"opname": "watch_event", "event_type": "3", "client_state": "3", "path": "/a",
				"zxid": "78", "error": "0", "bytes": "34"}},
		{server: rec{}.i32(5).i64(79).i32(zk.ErrNoNode).frame(),
			want: map[string]string{"opname": "create_resp", "xid": "5", "zxid": "79", "error": "-101", "bytes": "20"}},
	}
	var in bytes.Buffer
	c := newConn(f, s, &fakeConn{in: &in})
	for i, step := range steps {
		if step.client != nil {
			in.Write(step.client)
			if _, err := io.ReadAll(c); err != nil {
				t.Fatal(err)
			}
		} else if _, err := c.Write(step.server); err != nil {
			t.Fatal(err)
		}
		if got := meta(t, s); !reflect.DeepEqual(got, step.want) {
			t.Errorf("step %d: %v, want %v", i, got, step.want)
		}
	}
	if got := s.AccessSnapshot().Fields["zookeeper_session"]; got != "0x7" {
		t.Errorf("access zookeeper_session = %v, want 0x7", got)
	}
	for name, want := range map[string]uint64{"t.zookeeper.connect_readonly_rq": 1, "t.zookeeper.connect_rq": 0,
		"t.zookeeper.getdata_rq_bytes": 19, "t.zookeeper.create_resp": 1, "t.zookeeper.getdata_resp": 1,
		"t.zookeeper.watch_event": 1, "t.zookeeper.request_bytes": 49 + 19 + 33 + 24} {
		if got, _ := st.CounterValue(name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
}

// TestConfigValidate: bad configs are refused with their field paths.
func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no prefix", func(c *Config) { c.StatPrefix = "" }, "zk.stat_prefix: required"},
		{"zero max", func(c *Config) { c.MaxPacketBytes = 0 }, "zk.max_packet_bytes: must be positive"},
		{"bad opcode", func(c *Config) {
			c.LatencyThresholdOverrides = []LatencyThresholdOverride{{Opcode: "getdata", Threshold: config.Duration(time.Second)}}
		}, `zk.latency_threshold_overrides[0].opcode: unknown opcode "getdata"`},
		{"twice", func(c *Config) {
			c.LatencyThresholdOverrides = []LatencyThresholdOverride{{Opcode: "Multi", Threshold: config.Duration(time.Second)},
				{Opcode: "Multi", Threshold: config.Duration(time.Second)}}
		}, `zk.latency_threshold_overrides[1].opcode: opcode "Multi" overridden twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConfig()
			c.StatPrefix = "p"
			tc.mod(c)
			var errs config.Errors
			c.Validate("zk", &errs)
			if err := errs.Err(); err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// FuzzFilter runs arbitrary client and server bytes through the conn,
// with and without a gate: no panic, an error at most. Seeded with a short
// session (the long captured one seeds codec/zookeeper's FuzzDecoder: here
// the fuzzer spends its time minimizing what long seeds uncover).
func FuzzFilter(f *testing.F) {
	client := append(append(connectRq(false),
		rec{}.i32(1).i32(int32(zk.OpGetData)).str("/a").b(true).frame()...),
		rec{}.i32(2).i32(int32(zk.OpCreate)).str("/a/b").str("v").i32(0).i32(1).frame()...)
	server := append(append(connectRsp(false),
		rec{}.i32(1).i64(5).i32(0).str("v").frame()...),
		rec{}.i32(-1).i64(6).i32(0).i32(3).i32(3).str("/a").frame()...)
	f.Add(client, server, false)
	f.Add(client, server, true)
	// The handshake and first exchanges of the real session captured
	// against ZooKeeper 3.8 (integration's TestZooKeeperCapture).
	dir := filepath.Join("..", "..", "codec", "zookeeper", "testdata")
	if cl, err := os.ReadFile(filepath.Join(dir, "session.client")); err == nil {
		if sv, err := os.ReadFile(filepath.Join(dir, "session.server")); err == nil {
			f.Add(firstFrames(cl, 3), firstFrames(sv, 3), true)
		}
	}
	flt, _ := newTestFilter(f, func(c *Config) { c.MaxPacketBytes = 8192; c.EnableLatencyThresholdMetrics = true })
	f.Fuzz(func(t *testing.T, client, server []byte, gated bool) {
		s := newSession()
		if gated {
			s.AddRequestGate(denyAll{})
		}
		c := newConn(flt, s, &fakeConn{in: bytes.NewReader(client)})
		io.ReadAll(c)
		c.Write(server)
		s.RunOnClose()
	})
}

// firstFrames returns the first n length-prefixed frames of b.
func firstFrames(b []byte, n int) []byte {
	off := 0
	for i := 0; i < n && off+4 <= len(b); i++ {
		off += 4 + int(binary.BigEndian.Uint32(b[off:]))
	}
	return b[:min(off, len(b))]
}

type denyAll struct{}

func (denyAll) CheckRequest(*filters.Session, *filters.Request) filters.SQLVerdict {
	return filters.SQLVerdict{Deny: true, Policy: "all"}
}

// gate refuses requests on one path, in-band or by closing.
type gate struct {
	path  string
	close bool
}

func (g gate) CheckRequest(_ *filters.Session, r *filters.Request) filters.SQLVerdict {
	if r.Path != g.path {
		return filters.SQLVerdict{}
	}
	return filters.SQLVerdict{Deny: !g.close, Close: g.close, Policy: "p"}
}

// TestGate: a refused request is replaced by the exists on the impossible
// path with its xid, its reply's error becomes NOAUTH, the others pass
// untouched; a Close verdict ends the connection.
func TestGate(t *testing.T) {
	f, st := newTestFilter(t, nil)
	s := newSession()
	s.AddRequestGate(gate{path: "/secret"})
	allowed := rec{}.i32(1).i32(int32(zk.OpGetData)).str("/open").b(false).frame()
	denied := rec{}.i32(2).i32(int32(zk.OpSetData)).str("/secret").str("v").i32(-1).frame()
	in := append(append(connectRq(false), allowed...), denied...)
	c := newConn(f, s, &fakeConn{in: bytes.NewReader(in)})
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append(connectRq(false), allowed...), zk.AppendExists(nil, 2, deniedPath, false)...)
	if !bytes.Equal(out, want) {
		t.Fatalf("forwarded %x\nwant      %x", out, want)
	}
	replies := append(append(connectRsp(false), zk.AppendReply(nil, 1, 10, zk.ErrNoNode)...), zk.AppendReply(nil, 2, 11, zk.ErrNoNode)...)
	fc := c.Conn.(*fakeConn)
	if _, err := c.Write(replies); err != nil {
		t.Fatal(err)
	}
	wantOut := append(append(connectRsp(false), zk.AppendReply(nil, 1, 10, zk.ErrNoNode)...), zk.AppendReply(nil, 2, 11, zk.ErrNoAuth)...)
	if !bytes.Equal(fc.out.Bytes(), wantOut) {
		t.Fatalf("client got %x\nwant       %x", fc.out.Bytes(), wantOut)
	}
	for name, want := range map[string]uint64{"t.zookeeper.requests_denied": 1, "t.zookeeper.setdata_rq": 1, "t.zookeeper.setdata_resp": 1, "t.zookeeper.getdata_resp": 1} {
		if got, _ := st.CounterValue(name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}

	s = newSession()
	s.AddRequestGate(gate{path: "/secret", close: true})
	c = newConn(f, s, &fakeConn{in: bytes.NewReader(in)})
	if _, err := io.ReadAll(c); !errors.Is(err, errDenyClose) {
		t.Fatalf("close verdict: %v", err)
	}
}
