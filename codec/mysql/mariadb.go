package mysql

// MariaDB extended capabilities (go-mysql does not define them). A MariaDB
// server clears CLIENT_LONG_PASSWORD (which it calls CLIENT_MYSQL) and sends
// 32 more capability bits in the last 4 reserved bytes of its greeting; a
// client that uses them clears the bit too and answers in the last 4 filler
// bytes of its handshake response. Values are bit positions above 32, as in
// MariaDB's include/mysql_com.h, shifted down by 32.
const (
	// MariaDBProgress: the server may send progress reports (ERR 0xffff).
	MariaDBProgress uint32 = 1 << 0
	// MariaDBComMulti: COM_MULTI.
	MariaDBComMulti uint32 = 1 << 1
	// MariaDBStmtBulkOperations: COM_STMT_BULK_EXECUTE.
	MariaDBStmtBulkOperations uint32 = 1 << 2
	// MariaDBExtendedMetadata: extended type info in column definitions.
	MariaDBExtendedMetadata uint32 = 1 << 3
	// MariaDBCacheMetadata: a column count is followed by a "metadata
	// follows" byte, and a COM_STMT_EXECUTE may skip the definitions.
	MariaDBCacheMetadata uint32 = 1 << 4
)

// ComStmtBulkExecute is MariaDB's COM_STMT_BULK_EXECUTE command byte.
const ComStmtBulkExecute byte = 0xfa

// mariaDBExt reports whether the session negotiated MariaDB extended flags.
func (s *Session) mariaDBExt(flags uint32) bool {
	return s.serverExt&s.clientExt&flags != 0
}
