package postgres

import (
	"errors"
	"fmt"
)

// Reasons a stream is not the Postgres protocol; a *FrameError wraps one of
// them, so callers compare with errors.Is.
var (
	// ErrLengthTooShort is a message length below 4, the length field itself.
	ErrLengthTooShort = errors.New("message length below 4")
	// ErrLengthTooLong is a message length above Config.MaxMessageLen.
	ErrLengthTooLong = errors.New("message length above limit")
	// ErrUnknownType is a type byte that the direction does not define.
	ErrUnknownType = errors.New("unknown message type")
	// ErrStartupLength is a startup packet whose length is outside [8, 10004],
	// the range the server accepts ("invalid length of startup packet").
	ErrStartupLength = errors.New("invalid length of startup packet")
	// ErrStartupProtocol is a startup packet with a protocol other than 3.x
	// or one of the request codes.
	ErrStartupProtocol = errors.New("unsupported frontend protocol")
	// ErrStartupLayout is a StartupMessage whose parameters are not
	// NUL-terminated name/value pairs ending in a NUL, or that names no user.
	ErrStartupLayout = errors.New("invalid startup packet layout")
	// ErrEncryptionAnswer is a backend answer to SSLRequest or GSSENCRequest
	// other than 'S', 'G', 'N' or an ErrorResponse.
	ErrEncryptionAnswer = errors.New("invalid answer to encryption request")
	// ErrTrailingData is data after a CancelRequest, which ends a connection.
	ErrTrailingData = errors.New("data after CancelRequest")
)

// FrameError is a fatal framing error: the decoder cannot find the next
// message boundary, so the connection must be closed. A Decoder that returned
// one returns it again from every later Feed.
type FrameError struct {
	Dir    Direction // stream the error was found in
	Offset int64     // stream offset of the offending message's first byte
	Type   byte      // type byte, 0 in the startup phase
	Length int64     // length field as read, -1 when not read
	Err    error     // one of the Err* reasons above
}

// Error describes the error, e.g. "postgres: frontend message 'Q' at offset 12: message length below 4 (length 2)".
func (e *FrameError) Error() string {
	what := "startup packet"
	if e.Type != 0 {
		what = fmt.Sprintf("message %q", e.Type)
	}
	s := fmt.Sprintf("postgres: %s %s at offset %d: %v", e.Dir, what, e.Offset, e.Err)
	if e.Length >= 0 {
		s += fmt.Sprintf(" (length %d)", e.Length)
	}
	return s
}

// Unwrap returns the reason.
func (e *FrameError) Unwrap() error { return e.Err }

// BodyError is a well-framed message whose body does not decode. It is not
// fatal: the server answers such a message with an ErrorResponse and goes on,
// so the decoder reports it in Message.Err and continues with the next one.
type BodyError struct {
	Kind Kind  // what the message was framed as
	Err  error // pgproto3's or this package's decode error
}

// Error describes the error.
func (e *BodyError) Error() string {
	return fmt.Sprintf("postgres: decoding %s body: %v", e.Kind, e.Err)
}

// Unwrap returns the decode error.
func (e *BodyError) Unwrap() error { return e.Err }
