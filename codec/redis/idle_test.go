//go:build linux

package redis

import (
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// peekWait is the readiness wait redis_proxy gives its Readers: park in
// the netpoller until the socket has a byte, without reading it.
func peekWait(rc syscall.RawConn) func() error {
	return func() error {
		return rc.Read(func(fd uintptr) bool {
			var b [1]byte
			_, _, e := syscall.Syscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1,
				syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
			return e != syscall.EAGAIN
		})
	}
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// TestIdleReaderHoldsNoBuffer: with a readiness wait, a Reader between
// commands holds no buffer while it waits (every wait starts with none),
// still parses commands that arrive in pieces across waits, and reports
// the end of the stream and a read deadline as a plain read would.
func TestIdleReaderHoldsNoBuffer(t *testing.T) {
	client, server := tcpPair(t)
	rc, err := server.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(server, Limits{})
	var mu sync.Mutex
	var held []int // the buffer size at each wait
	wait := peekWait(rc)
	r.SetWaitReadable(func() error {
		mu.Lock()
		held = append(held, r.BufferSize())
		mu.Unlock()
		return wait()
	})
	got := make(chan string, 16)
	errc := make(chan error, 1)
	go func() {
		for {
			cmd, err := r.ReadCommand()
			if err != nil {
				errc <- err
				return
			}
			parts := make([]string, len(cmd.Args))
			for i, a := range cmd.Args {
				parts[i] = string(a)
			}
			got <- strings.Join(parts, " ")
		}
	}()
	send := func(s string) {
		if _, err := client.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(want string) {
		t.Helper()
		select {
		case g := <-got:
			if g != want {
				t.Fatalf("command %q, want %q", g, want)
			}
		case err := <-errc:
			t.Fatalf("reader ended: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatalf("no command %q", want)
		}
	}
	send("PING\r\n")
	expect("PING")
	send("*3\r\n$3\r\nSET\r\n$1\r\nk") // a partial command: no wait while it is pending
	send("\r\n$5\r\nhello\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
	expect("SET k hello")
	expect("GET k")
	big := strings.Repeat("x", 3*defaultBufSize) // grows the buffer past the pool's size
	send("*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$" + itoa(len(big)) + "\r\n" + big + "\r\n")
	expect("SET b " + big)
	send("PING\r\n")
	expect("PING")
	client.Close()
	if err := <-errc; !errors.Is(err, io.EOF) {
		t.Fatalf("end of stream: %v, want io.EOF", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(held) < 4 {
		t.Fatalf("%d waits, want one before each burst", len(held))
	}
	for i, n := range held {
		if n != 0 {
			t.Errorf("wait %d began holding a %d-byte buffer", i, n)
		}
	}
}

// TestIdleReaderDeadline: a read deadline ends the wait with the error a
// read would give (redis_proxy's request timeout tells it by ErrDeadlineExceeded).
func TestIdleReaderDeadline(t *testing.T) {
	_, server := tcpPair(t)
	rc, err := server.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(server, Limits{})
	r.SetWaitReadable(peekWait(rc))
	server.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := r.ReadCommand(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("err %v, want a deadline error", err)
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return string(b[i:])
		}
	}
}
