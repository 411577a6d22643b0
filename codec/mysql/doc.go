// Package mysql decodes the MySQL/MariaDB client/server protocol as an
// observer sees it: two byte streams (client to server, server to client)
// arriving in arbitrary chunks, never modified. It frames packets, follows
// the connection phase (handshake, SSLRequest, login, auth switch, auth more
// data) and the command phase (commands, OK/ERR/EOF, result sets, prepared
// statements, LOCAL INFILE), and reports what happened as Events. It also
// encodes the few packets a proxy synthesizes (ERR, OK).
//
// Memory is bounded: a Framer keeps a packet header and a bounded prefix of
// each payload (Config.SQLPrefix plus a little), so a 1 GiB row or query costs
// the same memory as a 10-byte one. Result sets are counted, not buffered.
//
// Constants (commands, capability flags, status flags, header bytes, auth
// plugin names) come from github.com/go-mysql-org/go-mysql/mysql. What is
// written by hand here, and why: the framer and the packet parsers, because
// go-mysql's packet reader (packet.Conn) owns a net.Conn and reads whole
// payloads into memory, and its length-encoded integer helpers index past the
// end of short input (they panic on malformed packets). This package needs
// incremental, prefix-only, bounds-checked decoding instead.
//
// A Session is not safe for concurrent use: the caller serializes Feed calls
// for both directions and must feed bytes in the order the peers could have
// seen them (feed a chunk before forwarding it), which the request/response
// nature of the protocol then makes unambiguous.
package mysql
