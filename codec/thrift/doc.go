// Package thrift frames and decodes Apache Thrift messages for thrift_proxy:
// the message header (method name, type, sequence id) of every call and
// reply, in the transports Envoy's thrift_proxy speaks (framed, unframed,
// header, auto) and its protocols (binary, lax binary, compact, auto), and
// re-encodes a message for another transport, protocol, name or sequence id.
//
// What github.com/apache/thrift (v0.22) gives and what is written here:
//
//   - The protocols are the library's: TBinaryProtocol (strict and lax reads),
//     TCompactProtocol read the message begin and, for unframed messages,
//     skip the struct body (thrift.Skip) so the message end is found without
//     materializing it; translating a body between binary and compact reads
//     with one library protocol and writes with the other (convert.go).
//   - The header transport (THeader) is parsed and written by the library's
//     THeaderTransport over an in-memory frame, so its key/value headers,
//     protocol id and zlib transform come from the library.
//   - Hand-written: the framing loop over a connection (the library's
//     transports own a socket and read frames of any size up to 16 MB; a
//     proxy needs one reader that detects the transport the way Envoy does,
//     refuses a frame above the listener's buffer limit before reading it,
//     and hands back the frame's bytes so a body can pass through untouched),
//     the auto detection (Envoy's rules, detect.go), the small encoders of
//     the framed and unframed envelopes, the strict binary message begin
//     (the library's reader cost a protocol and a buffer per message, ~5%
//     of the proxy's CPU in pprof under bench/thrift.sh; other protocols
//     go through the library) and a check of THeader's transform count
//     before the library allocates from it (see checkHeaderCounts).
//
// The twitter protocol (Finagle's upgrade handshake) is not supported: a
// config naming it is refused at load.
//
// Memory: a message is held whole once, bounded by the decoder's max size
// (the listener's per_connection_buffer_limit_bytes): framed and header
// frames are length-prefixed and read in one piece; an unframed message is
// recorded while the library skips over it, and refused past the bound.
package thrift
