package postgres

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/pgproto3"
)

// StartupPacket is one packet of the startup phase, as read by
// ReadStartupPacket.
type StartupPacket struct {
	// Kind is KindStartupMessage, KindSSLRequest, KindGSSENCRequest or
	// KindCancelRequest.
	Kind Kind
	// Raw is the packet as read, length included, to replay to the server.
	Raw []byte
	// Startup is the StartupMessage's protocol version and parameters
	// ("user", "database", "application_name", ...), for KindStartupMessage.
	Startup *pgproto3.StartupMessage
	// Cancel is the CancelRequest's process and key, for KindCancelRequest
	// with a 4-byte key (nil for protocol 3.2's longer keys).
	Cancel *pgproto3.CancelRequest
}

// ErrTooManyEncryptionRequests is a client that keeps asking for encryption
// after being refused; the server accepts at most one SSLRequest and one
// GSSENCRequest per connection.
var ErrTooManyEncryptionRequests = errors.New("postgres: too many encryption requests")

// ReadStartupPacket reads exactly one startup packet from r, reading no byte
// beyond it, and checks it as the server does (length, protocol, layout). It
// is for a routing filter that must see the StartupMessage before it picks
// an upstream; a filter that terminates TLS answers an SSLRequest itself and
// calls it again on the TLS stream.
func ReadStartupPacket(r io.Reader) (*StartupPacket, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("postgres: reading startup packet length: %w", err)
	}
	length := int64(binary.BigEndian.Uint32(hdr[:]))
	if length < 8 || length > MaxStartupPacketLen {
		return nil, &FrameError{Dir: Frontend, Length: length, Err: ErrStartupLength}
	}
	raw := make([]byte, length)
	copy(raw, hdr[:])
	if _, err := io.ReadFull(r, raw[4:]); err != nil {
		return nil, fmt.Errorf("postgres: reading startup packet: %w", err)
	}
	kind, body, err := parseStartup(raw[4:])
	if err != nil {
		return nil, &FrameError{Dir: Frontend, Length: length, Err: err}
	}
	p := &StartupPacket{Kind: kind, Raw: raw}
	switch b := body.(type) {
	case *pgproto3.StartupMessage:
		p.Startup = b
	case *pgproto3.CancelRequest:
		p.Cancel = b
	}
	return p, nil
}

// ReadStartup reads the startup phase of a client that the proxy will not
// encrypt: it answers each SSLRequest and GSSENCRequest with 'N' on w (as a
// server without SSL does; the client then goes on in clear text or gives
// up) and returns the StartupMessage or CancelRequest that follows. The
// refused requests are not in the result: the server never needs them.
func ReadStartup(r io.Reader, w io.Writer) (*StartupPacket, error) {
	for range 3 {
		p, err := ReadStartupPacket(r)
		if err != nil {
			return nil, err
		}
		if p.Kind != KindSSLRequest && p.Kind != KindGSSENCRequest {
			return p, nil
		}
		if _, err := w.Write(AppendEncryptionAnswer(nil, false)); err != nil {
			return nil, fmt.Errorf("postgres: refusing %s: %w", p.Kind, err)
		}
	}
	return nil, ErrTooManyEncryptionRequests
}
