// Package postgres is sluice's Postgres wire-protocol codec for observers: an
// incremental decoder for each direction of a session (the frontend stream,
// client to server, and the backend stream, server to client), a reader for
// the whole startup phase, and encoders for the few messages a proxy must
// synthesize (ErrorResponse plus ReadyForQuery, the one-byte answer to an
// SSLRequest).
//
// The decoders accept the byte stream in arbitrary chunks and call back once
// per complete message. They never buffer a large message: a DataRow, a
// CopyData, a huge Bind or a gigabyte Query is walked holding only its
// five-byte header and, for Query and Parse, a prefix of the SQL text of at
// most Config.MaxSQL bytes. Memory held by a Decoder is bounded by
// Config.Bound(), whatever is fed.
//
// Message bodies that are small and fully buffered are decoded with
// github.com/jackc/pgproto3/v2's message types. The framing, the startup
// phase (which has no type byte and is context dependent) and the SQL prefix
// extraction are written here because pgproto3's Frontend and Backend read
// whole messages from an io.Reader into memory, which an observer that must
// not hold a gigabyte COPY cannot do; and because pgproto3 v2 does not know
// NegotiateProtocolVersion, GSSENCRequest answers or the context-dependent
// 'p' message without the authentication state, which a Pair shares between
// its two decoders.
//
// The package is pure: functions over bytes and an io.Reader, no sockets, no
// stats, no config files.
package postgres
