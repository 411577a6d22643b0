package httpconn

import (
	"bufio"
	"context"
	"net"
	"sync"
	"syscall"
	"time"
)

// watchAfter is how long a request runs before its client's connection is
// watched for a close. Most requests end sooner and cost only a timer
// reset; a client leaving a slower one is noticed this much later at
// worst. (Watching from the first moment took a goroutine and a wake-up
// per request: the per-request hand-off this path was rid of.)
const watchAfter = 20 * time.Millisecond

// clientWatch notices an HTTP/1 client closing its connection while its
// request is in flight and cancels the connection's context, which cancels
// the upstream request, as an HTTP/2 reset does (Envoy resets the upstream
// stream on a downstream close). The connection's goroutine is busy with
// the exchange, so the watch runs in the timer's goroutine: a readiness
// wait and a recv(MSG_PEEK) on the socket once the request body is read
// (nothing else reads the socket then). A pipelined request's bytes end
// the watch (they are not a close). A FIN alone (a client that half-closed
// after its request) counts as leaving, as in Envoy, whose connection
// manager does not enable half-close and resets the streams of a
// connection that read EOF (envoyproxy/envoy#2066, #17160). Plain TCP
// only: over TLS a peeked byte cannot tell a close_notify from data.
type clientWatch struct {
	c      net.Conn
	raw    syscall.RawConn
	br     *bufio.Reader
	cancel context.CancelFunc
	t      *time.Timer
	onGone func()

	mu    sync.Mutex
	state uint8 // watchIdle, watchArmed, watchRunning
	body  *lockedBody
	done  chan struct{}
}

const (
	watchIdle = iota
	watchArmed
	watchRunning
)

// newClientWatch returns nil when the connection is not a plain socket.
func newClientWatch(c net.Conn, br *bufio.Reader, cancel context.CancelFunc, onGone func()) *clientWatch {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	w := &clientWatch{c: c, raw: raw, br: br, cancel: cancel, onGone: onGone}
	w.t = time.AfterFunc(time.Hour, w.run)
	w.t.Stop()
	return w
}

// arm starts watching for the request whose body is b.
func (w *clientWatch) arm(b *lockedBody) {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.state, w.body = watchArmed, b
	w.mu.Unlock()
	w.t.Reset(watchAfter)
}

// disarm ends the watch; it returns once the socket is the connection's
// goroutine's alone again.
func (w *clientWatch) disarm() {
	if w == nil {
		return
	}
	w.mu.Lock()
	st, done := w.state, w.done
	w.state, w.body = watchIdle, nil
	w.mu.Unlock()
	w.t.Stop()
	if st == watchRunning {
		w.c.SetReadDeadline(time.Now()) // ends the readiness wait
		<-done
		w.c.SetReadDeadline(time.Time{}) // the next read sets its own
	}
}

func (w *clientWatch) run() {
	w.mu.Lock()
	if w.state != watchArmed {
		w.mu.Unlock()
		return
	}
	if !w.body.ended() {
		// The request body is still being read: look again later.
		w.mu.Unlock()
		w.t.Reset(watchAfter)
		return
	}
	if w.br.Buffered() > 0 {
		w.state = watchIdle // a pipelined request is here already
		w.mu.Unlock()
		return
	}
	w.state, w.done = watchRunning, make(chan struct{})
	done := w.done
	w.mu.Unlock()
	gone := false
	w.raw.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		if err == syscall.EAGAIN {
			return false // wait for readiness
		}
		gone = err != nil || n == 0
		return true
	})
	if gone {
		w.onGone()
		w.cancel()
	}
	close(done)
}
