package mysql

import (
	gm "github.com/go-mysql-org/go-mysql/mysql"
)

// DefaultSQLPrefix is the SQL prefix kept when Config.SQLPrefix is zero.
const DefaultSQLPrefix = 4096

// minPrefix is the payload prefix every message keeps, whatever SQLPrefix
// says: enough for any greeting, login, OK or ERR packet (user names, auth
// data, database and plugin names and error messages are all short).
const minPrefix = 1024

// Config tunes a Session.
type Config struct {
	// SQLPrefix is how many bytes of COM_QUERY / COM_STMT_PREPARE text an
	// Event carries; longer statements are cut and flagged Truncated. Zero
	// means DefaultSQLPrefix; negative keeps no SQL.
	SQLPrefix int
}

func (c Config) sqlPrefix() int {
	switch {
	case c.SQLPrefix == 0:
		return DefaultSQLPrefix
	case c.SQLPrefix < 0:
		return 0
	}
	return c.SQLPrefix
}

// state is where a Session is in the protocol.
type state uint8

const (
	stGreeting  state = iota // server's handshake next
	stLogin                  // client's SSLRequest or HandshakeResponse next
	stAuth                   // auth exchange until OK or ERR
	stIdle                   // client command next
	stResponse               // first packet of a response next
	stColumns                // column definitions (then EOF) of a result set
	stRows                   // rows until a terminator
	stDefs                   // definitions after a prepare OK
	stFieldList              // COM_FIELD_LIST definitions until EOF
	stInfile                 // client LOCAL INFILE data until an empty packet
	stResync                 // after an error: wait for a command (seq 0)
	stTLS                    // both streams are TLS
	stStopped                // not decoding any more
)

// Session follows one MySQL connection from both sides and reports Events.
type Session struct {
	fn        func(*Event)
	sqlPrefix int
	fr        [2]*Framer
	st        state
	seq       uint8 // sequence id the next packet should carry

	serverCaps, clientCaps uint32
	serverExt, clientExt   uint32 // MariaDB extended capabilities
	cmd                    byte   // command being answered
	cols, colsLeft, rows   uint64 // result set in progress
	defsLeft               uint64 // definitions left after a prepare OK
	partialSeen            bool   // the client message being framed had its header judged
	ev                     Event
}

// NewSession returns a Session that calls fn for every Event. fn runs inside
// Feed and must not call Feed.
func NewSession(cfg Config, fn func(*Event)) *Session {
	sp := cfg.sqlPrefix()
	limit := max(minPrefix, sp+32) // command byte and query attributes
	return &Session{
		fn:        fn,
		sqlPrefix: sp,
		fr:        [2]*Framer{NewFramer(limit), NewFramer(limit)},
	}
}

// Stopped reports whether the Session has stopped decoding (TLS without
// ResumeTLS, compression, replication, an undecodable handshake).
func (s *Session) Stopped() bool { return s.st == stTLS || s.st == stStopped }

// ClientInPacket reports whether the client's stream stopped inside a
// packet (a partial header or payload) while the Session still decodes.
func (s *Session) ClientInPacket() bool { return !s.Stopped() && s.fr[ClientToServer].InPacket() }

// Offset returns how many bytes of dir's stream the Session has framed.
func (s *Session) Offset(dir Direction) int64 { return s.fr[dir&1].Offset() }

// ResumeTLS continues decoding after the caller terminated the client's TLS
// (EventSSLRequest): the next bytes fed are the plaintext the client sent
// inside TLS, starting with its HandshakeResponse (sequence id 2), and server
// bytes must be fed as the client sees them.
func (s *Session) ResumeTLS() {
	if s.st != stTLS {
		return
	}
	s.fr[0].Reset()
	s.fr[1].Reset()
	s.st, s.seq = stLogin, 2
}

// Feed decodes the next chunk of dir's stream; it consumes all of p and
// reports what it finds through the callback. Bytes after an SSLRequest (or
// once Stopped) are ignored.
func (s *Session) Feed(dir Direction, p []byte) {
	dir &= 1
	for len(p) > 0 && !s.Stopped() {
		if s.st == stRows && dir == ServerToClient {
			if p = s.skipRows(p); len(p) == 0 {
				return
			}
		}
		m, n, err := s.fr[dir].Next(p)
		p = p[n:]
		if err != nil {
			if pe, ok := err.(*ProtocolError); ok {
				pe.Dir = dir
			}
			s.protocolError(dir, err)
		}
		switch {
		case m != nil:
			if dir == ClientToServer {
				s.partialSeen = false
			}
			s.handle(dir, m)
		case dir == ClientToServer:
			s.checkPartial()
		}
	}
}

// checkPartial judges the header of a client message still arriving: a
// command must carry sequence id 0. Garbage sent after login usually reads
// as a header with a random sequence id and a length of megabytes; the
// server answers "Got packets out of order" at the header and closes, so
// waiting for the payload would never see the message end (Envoy's decoder,
// too, checks the sequence id before the payload is in).
func (s *Session) checkPartial() {
	seq, ok := s.fr[ClientToServer].Partial()
	if !ok || s.partialSeen {
		return
	}
	s.partialSeen = true
	if s.st == stIdle && seq != 0 {
		s.fail(&ProtocolError{Dir: ClientToServer, Seq: seq, Reason: "command with a sequence id other than 0"})
	}
}

// handle routes one message by direction and state.
func (s *Session) handle(dir Direction, m *Message) {
	if s.st == stResync {
		if dir == ServerToClient || m.Seq != 0 {
			return
		}
		s.st, s.seq = stIdle, 0
	}
	if dir == ClientToServer && s.st != stLogin && s.st != stAuth && s.st != stInfile {
		if s.st != stIdle {
			s.fail(&ProtocolError{Dir: dir, Seq: m.Seq, Reason: "command before the previous response ended"})
			s.st = stIdle
		}
		if m.Seq != 0 {
			s.fail(&ProtocolError{Dir: dir, Seq: m.Seq, Reason: "command with a sequence id other than 0"})
			return
		}
		s.seq = 0
	}
	if s.st == stIdle && dir == ServerToClient {
		if isErrPacket(m) {
			s.unsolicitedErr(m) // a server going away says why
			return
		}
		s.fail(&ProtocolError{Dir: dir, Seq: m.Seq, Reason: "server packet with no command pending"})
		return
	}
	if m.Seq != s.seq {
		s.fail(&ProtocolError{Dir: dir, Seq: m.Seq, Reason: "unexpected sequence id"})
		return
	}
	s.seq = m.LastSeq + 1
	switch s.st {
	case stGreeting, stLogin, stAuth:
		s.handleConnect(dir, m)
	case stIdle:
		s.handleCommand(m)
	case stInfile:
		if dir == ServerToClient {
			s.fail(&ProtocolError{Dir: dir, Seq: m.Seq, Reason: "server packet during LOCAL INFILE data"})
			return
		}
		if m.Len == 0 {
			s.st = stResponse
		}
	default:
		if dir == ClientToServer {
			return // unreachable: client packets were handled above
		}
		s.handleResponse(m)
	}
}

func isErrPacket(m *Message) bool { return len(m.Prefix) > 0 && m.Prefix[0] == gm.ERR_HEADER }

// begin resets the reused Event for a message.
func (s *Session) begin(k EventKind, dir Direction, m *Message) *Event {
	ev := &s.ev
	*ev = Event{} // cleared in place, then set field by field (see Framer.whole)
	ev.Kind, ev.Dir, ev.Seq = k, dir, m.Seq
	ev.Start, ev.End, ev.PayloadLen = m.Start, m.End, m.Len
	return ev
}

// fail reports a protocol error and waits for the next command.
func (s *Session) fail(err *ProtocolError) {
	s.protocolError(err.Dir, err)
	if s.st >= stIdle && s.st < stTLS {
		s.st = stResync
	}
}

func (s *Session) protocolError(dir Direction, err error) {
	s.ev = Event{Kind: EventProtocolError, Dir: dir, Err: err}
	s.fn(&s.ev)
}

// decodeError reports a malformed packet. In the connection phase nothing
// after it can be trusted, so decoding stops; in the command phase the
// Session waits for the next command.
func (s *Session) decodeError(dir Direction, m *Message, what string, err error) {
	ev := s.begin(EventDecodeError, dir, m)
	ev.Err = &DecodeError{Dir: dir, Seq: m.Seq, What: what, Err: err}
	s.fn(ev)
	if s.st < stIdle {
		s.stop(dir, m, "undecodable "+what)
		return
	}
	s.st = stResync
}

// stop stops decoding for good and says why.
func (s *Session) stop(dir Direction, m *Message, reason string) {
	s.st = stStopped
	ev := s.begin(EventStopped, dir, m)
	ev.Reason = reason
	s.fn(ev)
}

func (s *Session) unsolicitedErr(m *Message) {
	e, err := parseErr(m.Prefix)
	if err != nil {
		s.decodeError(ServerToClient, m, "err", err)
		return
	}
	ev := s.begin(EventErr, ServerToClient, m)
	ev.ErrCode, ev.SQLState, ev.ErrMsg = e.code, e.state, e.msg
	s.fn(ev)
}
