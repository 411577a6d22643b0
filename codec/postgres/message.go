package postgres

import (
	"github.com/jackc/pgx/v5/pgproto3"
)

// Direction is which stream of a session a Decoder reads.
type Direction uint8

// The two streams of a session.
const (
	// Frontend is client to server.
	Frontend Direction = iota
	// Backend is server to client.
	Backend
)

// String returns "frontend" or "backend".
func (d Direction) String() string {
	if d == Backend {
		return "backend"
	}
	return "frontend"
}

// Message is one decoded message. The Decoder reuses it and the memory it
// points to (Body, SQL, Name): all of it is valid only until the emit
// callback returns; copy what must outlive it.
type Message struct {
	// Kind is what the message is, with the type byte resolved by direction
	// and context ('p', 'R', the startup phase).
	Kind Kind
	// Type is the type byte; 0 for startup-phase packets; 'S', 'G' or 'N'
	// for the one-byte answer to an encryption request (Length 0 then).
	Type byte
	// Length is the length field as on the wire: the body plus 4, without
	// the type byte. It is 0 for KindEncryptionAnswer and KindTLS.
	Length int64
	// Body is the pgproto3 message decoded from a small, fully buffered body
	// (such as *pgproto3.ErrorResponse, *pgproto3.ReadyForQuery,
	// *pgproto3.StartupMessage, *pgproto3.NegotiateProtocolVersion). It is nil for
	// Query (see SQL), DataRow, CopyData, Bind, bodies over Config.MaxBody, kinds
	// pgproto3 v2 has no type for, bodies that failed to decode, and kinds
	// outside a non-empty Config.DecodeOnly.
	Body pgproto3.Message
	// SQL is the SQL text of a Query or Parse, without its NUL, cut to
	// Config.MaxSQL bytes.
	SQL []byte
	// Name is the prepared statement name of a Parse.
	Name []byte
	// Truncated reports that SQL was cut, or that the body was too large to
	// decode into Body.
	Truncated bool
	// Err is a *BodyError when the message is well framed but its body does
	// not decode; the stream goes on.
	Err error
}

// Tag returns a CommandComplete's command tag ("INSERT 0 1", "SELECT 5",
// "COMMIT"), or nil.
func (m *Message) Tag() []byte {
	if cc, ok := m.Body.(*pgproto3.CommandComplete); ok {
		return cc.CommandTag
	}
	return nil
}

// TxStatus returns a ReadyForQuery's transaction status ('I' idle, 'T' in a
// transaction, 'E' in a failed transaction), or 0.
func (m *Message) TxStatus() byte {
	if r, ok := m.Body.(*pgproto3.ReadyForQuery); ok {
		return r.TxStatus
	}
	return 0
}

// ErrorFields returns the fields of an ErrorResponse or NoticeResponse, or
// nil. Severity is the unlocalized 'V' field when the server sent one
// (9.6+), else the possibly localized 'S' field.
func (m *Message) ErrorFields() (severity, sqlstate, message string, ok bool) {
	var e *pgproto3.ErrorResponse
	switch b := m.Body.(type) {
	case *pgproto3.ErrorResponse:
		e = b
	case *pgproto3.NoticeResponse:
		e = (*pgproto3.ErrorResponse)(b)
	default:
		return "", "", "", false
	}
	severity = e.SeverityUnlocalized
	if severity == "" {
		severity = e.Severity
	}
	return severity, e.Code, e.Message, true
}
