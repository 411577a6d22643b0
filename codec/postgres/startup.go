package postgres

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Startup-phase request codes, sent where a StartupMessage has its protocol
// version.
const (
	SSLRequestCode    = 80877103
	GSSENCRequestCode = 80877104
	CancelRequestCode = 80877102
	// tlsHandshake is the first byte of a TLS record carrying a handshake: a
	// client doing direct TLS (Postgres 17 sslnegotiation=direct), or one
	// that got 'S' from a server this decoder did not see answer.
	tlsHandshake = 0x16
)

// feedStartupLen reads a startup packet's length.
func (d *Decoder) feedStartupLen(p []byte, emit func(*Message) error) (int, error) {
	if d.nhdr == 0 {
		d.msgOff = d.off
		if d.sess.encrypted.Load() {
			d.st = stEncrypted
			return 0, nil
		}
		if p[0] == tlsHandshake {
			d.st = stEncrypted
			return 0, emit(&Message{Kind: KindTLS})
		}
	}
	n := copy(d.hdr[d.nhdr:4], p)
	d.nhdr += n
	if d.nhdr < 4 {
		return n, nil
	}
	d.nhdr = 0
	d.length = int64(binary.BigEndian.Uint32(d.hdr[:4]))
	if d.length < 8 || d.length > MaxStartupPacketLen {
		return n, d.frameErr(0, d.length, ErrStartupLength)
	}
	d.remain = d.length - 4
	d.buf = d.buf[:0]
	d.grow(int(d.remain))
	d.st = stStartupBody
	return n, nil
}

// feedStartupBody buffers the rest of a startup packet and emits it.
func (d *Decoder) feedStartupBody(p []byte, emit func(*Message) error) (int, error) {
	n := int(min(int64(len(p)), d.remain))
	d.buf = append(d.buf, p[:n]...)
	d.remain -= int64(n)
	if d.remain > 0 {
		return n, nil
	}
	kind, body, err := parseStartup(d.buf)
	if err != nil {
		return n, d.frameErr(0, d.length, err)
	}
	switch kind {
	case KindSSLRequest, KindGSSENCRequest:
		d.sess.pendingEnc.Store(uint32(kind))
		d.st = stStartupLen
	case KindCancelRequest:
		d.st = stDone
	default:
		d.st = stHeader
	}
	err = emit(&Message{Kind: kind, Length: d.length, Body: body})
	// A session has one startup packet (two after a refused encryption
	// request): its buffer is not kept for the typed messages that follow.
	d.buf = nil
	return n, err
}

// encryptionAnswer consumes the backend's one-byte answer to the pending
// encryption request req ('E' is left for the header reader: the server
// refuses with an ErrorResponse, which is then framed as usual).
func (d *Decoder) encryptionAnswer(req Kind, b byte, emit func(*Message) error) (int, error) {
	d.sess.pendingEnc.Store(0)
	switch {
	case b == 'E':
		return 0, nil
	case b == 'N':
	case b == 'S' && req == KindSSLRequest, b == 'G' && req == KindGSSENCRequest:
		d.sess.encrypted.Store(true)
		d.st = stEncrypted
	default:
		return 0, d.frameErr(b, -1, ErrEncryptionAnswer)
	}
	return 1, emit(&Message{Kind: KindEncryptionAnswer, Type: b})
}

// parseStartup parses a startup packet's body (after its length): the
// request code or protocol version, then what follows it.
func parseStartup(b []byte) (Kind, pgproto3.Message, error) {
	code := binary.BigEndian.Uint32(b)
	switch code {
	case SSLRequestCode, GSSENCRequestCode:
		if len(b) != 4 {
			return 0, nil, ErrStartupLength
		}
		if code == SSLRequestCode {
			return KindSSLRequest, nil, nil
		}
		return KindGSSENCRequest, nil, nil
	case CancelRequestCode:
		// Protocol 3.2 (Postgres 18) allows secret keys of up to 256 bytes.
		if len(b) < 12 || len(b) > 8+256 {
			return 0, nil, ErrStartupLength
		}
		c := new(pgproto3.CancelRequest)
		if err := safeDecode(c, b); err != nil {
			return 0, nil, fmt.Errorf("%w: %v", ErrStartupLayout, err)
		}
		return KindCancelRequest, c, nil
	}
	if code>>16 != 3 {
		return 0, nil, fmt.Errorf("%w %d.%d", ErrStartupProtocol, code>>16, code&0xffff)
	}
	m := &pgproto3.StartupMessage{ProtocolVersion: code, Parameters: map[string]string{}}
	rest := b[4:]
	if len(rest) == 0 || rest[len(rest)-1] != 0 {
		return 0, nil, fmt.Errorf("%w: expected terminator as last byte", ErrStartupLayout)
	}
	rest = rest[:len(rest)-1]
	for len(rest) > 0 {
		name, after, ok := bytes.Cut(rest, []byte{0})
		value, after2, ok2 := bytes.Cut(after, []byte{0})
		if !ok || !ok2 {
			return 0, nil, fmt.Errorf("%w: parameter %q has no value", ErrStartupLayout, name)
		}
		m.Parameters[string(name)] = string(value)
		rest = after2
	}
	if m.Parameters["user"] == "" {
		return 0, nil, fmt.Errorf("%w: no PostgreSQL user name specified", ErrStartupLayout)
	}
	return KindStartupMessage, m, nil
}
