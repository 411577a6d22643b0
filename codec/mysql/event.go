package mysql

// Direction names one of the two byte streams of a connection.
type Direction uint8

// The two directions.
const (
	// ClientToServer is the stream the client writes.
	ClientToServer Direction = iota
	// ServerToClient is the stream the server writes.
	ServerToClient
)

// String returns "client" or "server" (who wrote the bytes).
func (d Direction) String() string {
	if d == ClientToServer {
		return "client"
	}
	return "server"
}

// EventKind says what an Event reports.
type EventKind uint8

// Event kinds, in the order a session usually produces them.
const (
	// EventGreeting: the server's initial handshake (v10).
	EventGreeting EventKind = iota + 1
	// EventSSLRequest: the client asked for TLS; both streams are TLS after
	// End. Envoy counts upgraded_to_ssl.
	EventSSLRequest
	// EventLogin: a HandshakeResponse41 (a login attempt).
	EventLogin
	// EventAuthSwitch: the server asked the client to switch auth plugin.
	EventAuthSwitch
	// EventAuthMoreData: an auth "more data" packet (0x01). AuthStatus holds
	// its first data byte (3: caching_sha2 fast auth OK, 4: full auth needed).
	EventAuthMoreData
	// EventLoginOK: the server accepted the login.
	EventLoginOK
	// EventLoginFailed: the server refused the login with an ERR packet.
	EventLoginFailed
	// EventCommand: a client command; Command, and SQL for COM_QUERY and
	// COM_STMT_PREPARE, StmtID for statement commands, DB for COM_INIT_DB.
	EventCommand
	// EventOK: an OK (or OK-as-EOF) response ending a command.
	EventOK
	// EventErr: an ERR response ending a command.
	EventErr
	// EventResultSet: a result set ended; Columns and Rows counted.
	EventResultSet
	// EventPrepareOK: a COM_STMT_PREPARE succeeded: StmtID, Params, Columns.
	EventPrepareOK
	// EventLocalInfile: the server asked the client for a file (Filename in
	// SQL); the client's data packets follow.
	EventLocalInfile
	// EventDecodeError: a malformed packet; Err is a *DecodeError.
	EventDecodeError
	// EventProtocolError: a packet out of order; Err is a *ProtocolError.
	EventProtocolError
	// EventStopped: the session stopped decoding (TLS, compression, an
	// undecodable handshake, a replication stream); Reason says why.
	EventStopped
)

var eventNames = [...]string{
	EventGreeting: "greeting", EventSSLRequest: "ssl_request", EventLogin: "login",
	EventAuthSwitch: "auth_switch", EventAuthMoreData: "auth_more_data",
	EventLoginOK: "login_ok", EventLoginFailed: "login_failed", EventCommand: "command",
	EventOK: "ok", EventErr: "err", EventResultSet: "result_set", EventPrepareOK: "prepare_ok",
	EventLocalInfile: "local_infile", EventDecodeError: "decode_error",
	EventProtocolError: "protocol_error", EventStopped: "stopped",
}

// String returns the kind's snake_case name.
func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return "unknown"
}

// Event is one thing a Session observed. The Session reuses one Event and
// its byte slices alias the Session's buffers: everything is valid only
// during the callback; copy what you keep.
type Event struct {
	Kind EventKind
	// Dir is the stream of the packet that produced the event.
	Dir Direction
	// Seq is the packet's sequence id (of its first packet).
	Seq uint8
	// Start and End are the stream offsets (in Dir's stream, counted from the
	// first byte fed) of the message's first header byte and just past its
	// last byte. After EventSSLRequest, bytes from End on are TLS.
	Start, End int64

	// Command is the command byte (gm.COM_QUERY, ...) for EventCommand, and
	// the command a response answers for EventOK, EventErr, EventResultSet,
	// EventPrepareOK, EventLocalInfile.
	Command byte
	// SQL is the statement text of COM_QUERY / COM_STMT_PREPARE, cut to
	// Config.SQLPrefix bytes (Truncated then says so); the file name for
	// EventLocalInfile.
	SQL       []byte
	Truncated bool
	// StmtID is the statement id of COM_STMT_* commands and EventPrepareOK.
	StmtID uint32
	// Params and Columns count a prepared statement's parameters and
	// columns (EventPrepareOK) or a result set's columns (EventResultSet).
	Params, Columns uint64
	// Rows counts the rows of a result set (EventResultSet).
	Rows uint64
	// PayloadLen is the full payload length of the message.
	PayloadLen int64

	// ErrCode, SQLState and ErrMsg come from an ERR packet.
	ErrCode  uint16
	SQLState []byte
	ErrMsg   []byte

	// AffectedRows, LastInsertID, Status and Warnings come from an OK packet
	// (Status and Warnings also from an EOF ending a result set).
	AffectedRows, LastInsertID uint64
	Status, Warnings           uint16

	// ConnID and ServerVersion come from the greeting.
	ConnID        uint32
	ServerVersion []byte
	// Capabilities are the server's (EventGreeting) or the client's
	// (EventSSLRequest, EventLogin) capability flags.
	Capabilities uint32
	// AuthPlugin names the auth plugin (greeting, login, auth switch).
	AuthPlugin []byte
	// AuthStatus is the first byte of an auth more data packet.
	AuthStatus byte
	// User and DB come from a login (or COM_CHANGE_USER); DB also from
	// COM_INIT_DB.
	User, DB []byte

	// Err is the *DecodeError or *ProtocolError of the error kinds.
	Err error
	// Reason says why decoding stopped (EventStopped).
	Reason string
}
