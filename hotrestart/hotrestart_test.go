package hotrestart

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeParent is a Parent over real listening sockets.
type fakeParent struct {
	lns     map[string]*net.TCPListener
	admin   atomic.Bool
	drained atomic.Bool
}

func (p *fakeParent) ListenerFiles(addrs []string) ([]string, []*os.File) {
	var names []string
	var files []*os.File
	for _, a := range addrs {
		if ln := p.lns[a]; ln != nil {
			f, _ := ln.File()
			names, files = append(names, a), append(files, f)
		}
	}
	return names, files
}

func (p *fakeParent) Counters() map[string]uint64 {
	if p.drained.Load() {
		return map[string]uint64{"a.b": 7}
	}
	return map[string]uint64{"a.b": 3}
}
func (p *fakeParent) ShutdownAdmin()     { p.admin.Store(true) }
func (p *fakeParent) Started() time.Time { return time.UnixMilli(1e12) }
func (p *fakeParent) Drain() {
	for _, ln := range p.lns {
		ln.Close()
	}
	p.drained.Store(true)
}

// TestHandOver: the child gets a working duplicate of the parent's socket
// for the address both have (not the other), the counters before and after
// the drain, and the parent's connections queued in the kernel are
// accepted by the child after the parent closed its copy.
func TestHandOver(t *testing.T) {
	p := &fakeParent{lns: map[string]*net.TCPListener{}}
	var addrs []string
	for range 2 {
		ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		p.lns[ln.Addr().String()] = ln
		addrs = append(addrs, ln.Addr().String())
	}
	name := SocketName(filepath.Join(t.TempDir(), "hr"), 1, 0)
	s, err := Listen(name, p, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := Dial(name)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.Started.Equal(time.UnixMilli(1e12)) {
		t.Fatalf("first epoch started %v", c.Started)
	}
	lns, err := c.Listeners([]string{addrs[0], "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(lns) != 1 || lns[addrs[0]] == nil {
		t.Fatalf("got %v, want only %s", lns, addrs[0])
	}
	ln := lns[addrs[0]]
	defer ln.Close()
	if m, err := c.Counters(); err != nil || m["a.b"] != 3 {
		t.Fatalf("counters %v %v", m, err)
	}
	if err := c.ShutdownAdmin(); err != nil || !p.admin.Load() {
		t.Fatalf("shutdown_admin: %v", err)
	}
	// Queued before the parent closes its copy, accepted by the child.
	conn, err := net.Dial("tcp", addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if m, err := c.Drain(); err != nil || m["a.b"] != 7 {
		t.Fatalf("drain %v %v", m, err)
	}
	<-s.Drained
	go func() {
		a, err := ln.Accept()
		if err == nil {
			io.Copy(a, a)
			a.Close()
		}
	}()
	conn.Write([]byte("hi\n"))
	if l, err := bufio.NewReader(conn).ReadString('\n'); err != nil || l != "hi\n" {
		t.Fatalf("through the inherited socket: %q %v", l, err)
	}
}

// TestVersionMismatch: a child of another protocol version is refused.
func TestVersionMismatch(t *testing.T) {
	name := SocketName("@sluice_test_"+t.Name(), os.Getpid(), 0)
	s, err := Listen(name, &fakeParent{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	uc, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: name, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	if err := send(uc, &message{Op: "hello", Version: "other"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := recv(uc); err == nil {
		t.Fatal("another version was accepted")
	}
}

// FuzzRecv: any bytes from a peer are an error or a message, never a panic.
func FuzzRecv(f *testing.F) {
	// Seeds: the bytes send writes for the messages of a real exchange.
	for _, m := range []*message{
		{Op: "hello", Version: Version}, {Op: "hello", Version: Version, Started: 1765000000000},
		{Op: "listeners", Addresses: []string{"127.0.0.1:6379", "[::1]:5432"}},
		{Op: "counters", Counters: map[string]uint64{"listener.127.0.0.1_6379.downstream_cx_total": 42}},
		{Op: "drain"}, {Op: "shutdown_admin", Error: "unknown op"},
	} {
		a, z, err := socketPair()
		if err != nil {
			f.Fatal(err)
		}
		if err := send(a, m, nil); err != nil {
			f.Fatal(err)
		}
		a.Close()
		raw, _ := io.ReadAll(z)
		z.Close()
		f.Add(raw)
	}
	f.Add([]byte("\x00\x00\x00\x1d{\"op\":\"hello\",\"version\":\"x\"}"))
	f.Add([]byte("\x00\x00\x00\x02{}"))
	f.Add([]byte("\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, z, err := socketPair()
		if err != nil {
			t.Skip(err)
		}
		defer a.Close()
		defer z.Close()
		go func() { a.Write(b); a.CloseWrite() }()
		m, files, err := recv(z)
		closeAll(files)
		if err == nil && m == nil {
			t.Fatal("no message and no error")
		}
	})
}
