package mysql

import "fmt"

// DecodeError is a malformed packet: the bytes cannot be what the protocol
// says comes next (a truncated handshake, a bad length-encoded integer...).
// Envoy's mysql_proxy counts these as decoder_errors.
type DecodeError struct {
	// Dir is the stream the packet came from.
	Dir Direction
	// Seq is the packet's sequence id.
	Seq uint8
	// What names the message being decoded ("handshake", "ok"...).
	What string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("mysql: decoding %s (%s, seq %d): %v", e.What, e.Dir, e.Seq, e.Err)
}

// Unwrap returns the cause.
func (e *DecodeError) Unwrap() error { return e.Err }

// ProtocolError is a well-formed packet that arrives out of order: a wrong
// sequence id, a server packet when the client should speak, a response the
// state does not allow. Envoy's mysql_proxy counts these as protocol_errors.
type ProtocolError struct {
	// Dir is the stream the packet came from.
	Dir Direction
	// Seq is the packet's sequence id.
	Seq uint8
	// Reason says what was wrong.
	Reason string
}

// Error implements error.
func (e *ProtocolError) Error() string {
	return fmt.Sprintf("mysql: protocol error (%s, seq %d): %s", e.Dir, e.Seq, e.Reason)
}

// errShort is the cause of a DecodeError when a field runs past the payload.
var errShort = fmt.Errorf("payload too short")

// errorBadHeader is the cause of a DecodeError for an unexpected first byte.
func errorBadHeader(b byte) error { return fmt.Errorf("unexpected packet header 0x%02x", b) }
