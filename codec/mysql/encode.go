package mysql

import (
	"unicode/utf8"

	gm "github.com/go-mysql-org/go-mysql/mysql"
)

// MaxErrMsgLen is the longest message AppendErr writes (MySQL's
// MYSQL_ERRMSG_SIZE less its NUL); longer ones are cut at a rune boundary.
const MaxErrMsgLen = 511

// AppendErr appends an ERR packet (header included) with the given sequence
// id to dst and returns the extended slice. To answer a client's command
// locally, seq is the command's sequence id plus one (1 for a one-packet
// command). sqlState must be 5 bytes; another length writes "HY000". The
// packet uses the 4.1 format every client since MySQL 4.1 expects.
func AppendErr(dst []byte, seq uint8, code uint16, sqlState, msg string) []byte {
	if len(sqlState) != 5 {
		sqlState = gm.DEFAULT_MYSQL_STATE
	}
	if len(msg) > MaxErrMsgLen {
		cut := MaxErrMsgLen
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut]
	}
	n := 1 + 2 + 1 + 5 + len(msg)
	dst = appendHeader(dst, n, seq)
	dst = append(dst, gm.ERR_HEADER, byte(code), byte(code>>8), '#')
	dst = append(dst, sqlState...)
	return append(dst, msg...)
}

// AppendOK appends an OK packet (header included) with the given sequence id,
// counts and status flags to dst and returns the extended slice. It writes
// no info string, which is valid with and without CLIENT_SESSION_TRACK.
func AppendOK(dst []byte, seq uint8, affectedRows, lastInsertID uint64, status, warnings uint16) []byte {
	var body [1 + 9 + 9 + 2 + 2]byte
	b := append(body[:0], gm.OK_HEADER)
	b = gm.AppendLengthEncodedInteger(b, affectedRows)
	b = gm.AppendLengthEncodedInteger(b, lastInsertID)
	b = append(b, byte(status), byte(status>>8), byte(warnings), byte(warnings>>8))
	dst = appendHeader(dst, len(b), seq)
	return append(dst, b...)
}

// appendHeader appends a packet header for an n-byte payload (n < 16 MiB).
func appendHeader(dst []byte, n int, seq uint8) []byte {
	return append(dst, byte(n), byte(n>>8), byte(n>>16), seq)
}
