package filters

import (
	"net"

	"github.com/sluice-proxy/sluice/proxy/ioloop"
)

// Taps is what an event loop needs to move a downstream connection's bytes
// itself (see ioloop.Taps): the plain TCP connection, the bytes a Read would
// have returned first, and the observers' per-chunk callbacks.
type Taps = ioloop.Taps

// Pause lets an observer's OnRead hold its connection's reading while work
// runs off the event loop (see ioloop.Pause).
type Pause = ioloop.Pause

// Handoverable is a Conn whose bytes an event loop may move. Handover
// consumes what Read would return before reading the socket, shown to the
// callbacks as Read would show it, and returns the Taps. ok=false (with no
// error, and nothing consumed) says the Conn must be driven through Read and
// Write: TLS, a SQL gate holding statements, a filter that writes on its own.
// After a successful Handover the Conn's Read and Write must not be used.
type Handoverable interface {
	Handover() (t Taps, ok bool, err error)
}

// HandoverOf returns the Taps of a raw *net.TCPConn or of a Handoverable.
func HandoverOf(c net.Conn) (Taps, bool, error) {
	switch c := c.(type) {
	case *net.TCPConn:
		return Taps{TCP: c}, true, nil
	case Handoverable:
		return c.Handover()
	}
	return Taps{}, false, nil
}

// Handover hands over the TCP connection and the unread prefix.
func (p *PrefixConn) Handover() (Taps, bool, error) {
	t := Taps{TCP: p.TCPConn, Pending: p.Prefix}
	p.Prefix = nil
	return t, true, nil
}

// Handover composes the wrapped conn's taps with OnRead and OnWrite.
func (t *Tapped) Handover() (Taps, bool, error) {
	in, ok, err := HandoverOf(t.Conn)
	if !ok || err != nil {
		return in, ok, err
	}
	if len(in.Pending) > 0 && t.OnRead != nil {
		if err := t.OnRead(in.Pending); err != nil {
			return Taps{}, false, err
		}
	}
	in.OnRead = ChainTaps(in.OnRead, t.OnRead)
	in.OnWrite = ChainTaps(t.OnWrite, in.OnWrite)
	return in, true, nil
}

// ChainTaps returns a callback that calls first and then second, skipping
// nil ones.
func ChainTaps(first, second func([]byte) error) func([]byte) error {
	switch {
	case first == nil:
		return second
	case second == nil:
		return first
	}
	return func(p []byte) error {
		if err := first(p); err != nil {
			return err
		}
		return second(p)
	}
}
