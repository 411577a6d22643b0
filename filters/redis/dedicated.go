package redis

import (
	"fmt"
	"io"
	"net"
	"time"

	"github.com/sluice-proxy/sluice/codec/redis"
)

// dedicated is an upstream connection owned by one client (blocking
// commands, pub/sub, WAIT), used request by request.
type dedicated struct {
	nc   net.Conn
	buf  []byte
	r, w int
}

// roundTrip writes raw and returns the next complete reply; the reply is
// valid until the next call.
func (d *dedicated) roundTrip(raw []byte) ([]byte, error) {
	if _, err := d.nc.Write(raw); err != nil {
		return nil, fmt.Errorf("redis: writing to %s: %w", d.nc.RemoteAddr(), err)
	}
	return d.readReply()
}

// readReply reads one complete reply.
func (d *dedicated) readReply() ([]byte, error) {
	if d.buf == nil {
		d.buf = make([]byte, 4<<10)
	}
	for {
		if d.r < d.w {
			n, err := redis.FrameReply(d.buf[d.r:d.w])
			if err != nil {
				return nil, fmt.Errorf("redis: reply from %s: %w", d.nc.RemoteAddr(), err)
			}
			if n > 0 {
				out := d.buf[d.r : d.r+n]
				d.r += n
				return out, nil
			}
		}
		if d.r == d.w {
			d.r, d.w = 0, 0
		} else if d.w == len(d.buf) {
			if d.r > 0 {
				d.w = copy(d.buf, d.buf[d.r:d.w])
				d.r = 0
			} else {
				nb := make([]byte, 2*len(d.buf))
				copy(nb, d.buf[:d.w])
				d.buf = nb
			}
		}
		n, err := d.nc.Read(d.buf[d.w:])
		d.w += n
		if err != nil && n == 0 {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("redis: reading from %s: %w", d.nc.RemoteAddr(), err)
		}
	}
}

func (d *dedicated) close() {
	if d.nc != nil {
		d.nc.Close()
	}
}

// authenticate sends AUTH on a new upstream connection (when credentials
// are configured) and checks the reply, within timeout.
func authenticate(nc net.Conn, cr *Credentials, timeout time.Duration) error {
	if cr == nil {
		return nil
	}
	var cmd []byte
	if cr.Username != "" {
		cmd = redis.AppendCommandString(nil, "AUTH", cr.Username, cr.Password)
	} else {
		cmd = redis.AppendCommandString(nil, "AUTH", cr.Password)
	}
	return handshake(nc, cmd, timeout)
}

// handshake sends one command and requires a non-error reply.
func handshake(nc net.Conn, cmd []byte, timeout time.Duration) error {
	if timeout > 0 {
		nc.SetDeadline(time.Now().Add(timeout))
		defer nc.SetDeadline(time.Time{})
	}
	d := dedicated{nc: nc}
	r, err := d.roundTrip(cmd)
	if err != nil {
		return err
	}
	if r[0] == '-' {
		return fmt.Errorf("redis: %s refused %q: %s", nc.RemoteAddr(), firstWord(cmd), trimCRLF(r[1:]))
	}
	if d.r != d.w {
		return fmt.Errorf("redis: %s sent more than one reply", nc.RemoteAddr())
	}
	return nil
}

func firstWord(cmd []byte) string {
	v, _, err := redis.DecodeReply(cmd)
	if err != nil || len(v.Elems) == 0 {
		return "?"
	}
	return string(v.Elems[0].Str)
}

func trimCRLF(b []byte) string {
	if len(b) >= 2 && b[len(b)-2] == '\r' {
		b = b[:len(b)-2]
	}
	return string(b)
}
