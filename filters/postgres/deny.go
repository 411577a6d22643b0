package postgres

import (
	"fmt"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgproto3"
)

// A denied statement is not answered by sluice: it is replaced by one that
// the server itself rejects with SQLSTATE 42501 and the policy's message, so
// that the server's transaction state is what it would be had the statement
// failed there (an explicit transaction is aborted and a later COMMIT
// answers ROLLBACK; a failed extended batch skips to its Sync). The
// replacement raises from an anonymous PL/pgSQL block; a database without
// plpgsql still fails the statement, with the server's "language does not
// exist" error instead.

// denyMessage is the error text a client sees for a statement policy refused.
func denyMessage(policy string) string {
	return fmt.Sprintf("permission denied by sluice policy %q", policy)
}

// appendDenySQL appends a DO statement that raises 42501 with msg. The
// message goes in an E'...' literal (its meaning does not depend on
// standard_conforming_strings) with everything but printable ASCII escaped:
// quotes and backslashes can't end the literal, no '$' can end the dollar
// quote around the block, and non-ASCII runes as \u escapes are converted
// to the server's encoding whatever the client_encoding. Invalid UTF-8 and
// NUL (which a Query cannot carry) become U+FFFD.
func appendDenySQL(dst []byte, msg string) []byte {
	dst = append(dst, "DO $sluice$ BEGIN RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = E'"...)
	for _, r := range msg {
		switch {
		case r == utf8.RuneError || r == 0:
			dst = append(dst, `\uFFFD`...)
		case r == '\'' || r == '\\' || r == '$':
			dst = fmt.Appendf(dst, `\x%02x`, r)
		case r >= 0x20 && r < 0x7f:
			dst = append(dst, byte(r))
		case r <= 0xffff:
			dst = fmt.Appendf(dst, `\u%04X`, r)
		default:
			dst = fmt.Appendf(dst, `\U%08X`, r)
		}
	}
	return append(dst, "'; END $sluice$"...)
}

// appendDenyQuery appends the simple Query that replaces a denied Query.
func appendDenyQuery(dst []byte, policy string) []byte {
	q := pgproto3.Query{String: string(appendDenySQL(nil, denyMessage(policy)))}
	out, err := q.Encode(dst)
	if err != nil { // only on a message over 1 GiB: cannot happen here
		panic(fmt.Sprintf("postgres_proxy: encoding the denial query: %v", err))
	}
	return out
}

// appendDenyExtended appends what replaces a denied Parse: Parse, Bind and
// Execute of the DO statement in the unnamed statement and portal. The
// server answers ParseComplete and BindComplete, which the filter drops on
// the way to the client, then the ErrorResponse, after which it skips the
// client's messages up to Sync as it would have after a failed Parse. In a
// batch that already failed the server skips these too and answers nothing.
func appendDenyExtended(dst []byte, policy string) []byte {
	sql := string(appendDenySQL(nil, denyMessage(policy)))
	var err error
	for _, m := range []interface {
		Encode([]byte) ([]byte, error)
	}{&pgproto3.Parse{Query: sql}, &pgproto3.Bind{}, &pgproto3.Execute{}} {
		if dst, err = m.Encode(dst); err != nil {
			panic(fmt.Sprintf("postgres_proxy: encoding the denial batch: %v", err))
		}
	}
	return dst
}
