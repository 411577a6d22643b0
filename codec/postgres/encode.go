package postgres

import (
	"github.com/jackc/pgx/v5/pgproto3"
)

// AppendEncryptionAnswer appends the one-byte answer to an SSLRequest: 'S'
// when the proxy will do the TLS handshake next, 'N' when it declines.
func AppendEncryptionAnswer(dst []byte, accept bool) []byte {
	if accept {
		return append(dst, 'S')
	}
	return append(dst, 'N')
}

// AppendError appends an ErrorResponse with the given severity ("ERROR",
// "FATAL"), SQLSTATE code and message, sent as both the 'S' and the
// unlocalized 'V' severity as servers since 9.6 do.
func AppendError(dst []byte, severity, sqlstate, message string) []byte {
	e := pgproto3.ErrorResponse{
		Severity:            severity,
		SeverityUnlocalized: severity,
		Code:                sqlstate,
		Message:             message,
	}
	dst, _ = e.Encode(dst) // fails only for a body over 1 GiB
	return dst
}

// AppendReadyForQuery appends a ReadyForQuery with the transaction status
// ('I', 'T' or 'E').
func AppendReadyForQuery(dst []byte, txStatus byte) []byte {
	r := pgproto3.ReadyForQuery{TxStatus: txStatus}
	dst, _ = r.Encode(dst)
	return dst
}

// AppendErrorReady appends what a proxy answers a query it refuses with: an
// ERROR-severity ErrorResponse then ReadyForQuery, so that the session goes
// on; txStatus is the status of the last ReadyForQuery the server sent ('I'
// if none).
func AppendErrorReady(dst []byte, sqlstate, message string, txStatus byte) []byte {
	dst = AppendError(dst, "ERROR", sqlstate, message)
	return AppendReadyForQuery(dst, txStatus)
}
