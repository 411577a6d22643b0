package mysql

import (
	gm "github.com/go-mysql-org/go-mysql/mysql"
)

// handleConnect follows the connection phase: greeting, SSLRequest or
// login, then the auth exchange until the server's OK or ERR.
func (s *Session) handleConnect(dir Direction, m *Message) {
	switch {
	case s.st == stGreeting && dir == ServerToClient:
		s.greeting(m)
	case s.st == stLogin && dir == ClientToServer:
		s.login(m)
	case s.st == stAuth && dir == ServerToClient:
		s.authReply(m)
	case s.st == stAuth:
		// Client auth data (scramble, password, public key request): opaque.
	default:
		s.fail(&ProtocolError{Dir: dir, Seq: m.Seq, Reason: "unexpected packet during the connection phase"})
	}
}

func (s *Session) greeting(m *Message) {
	if isErrPacket(m) { // "Too many connections", "Host ... is blocked"
		s.unsolicitedErr(m)
		s.st = stStopped
		return
	}
	g, err := parseGreeting(m.Prefix)
	if err != nil {
		s.decodeError(ServerToClient, m, "greeting", err)
		return
	}
	s.serverCaps, s.serverExt = g.caps, g.ext
	s.st = stLogin
	ev := s.begin(EventGreeting, ServerToClient, m)
	ev.ServerVersion, ev.ConnID, ev.Capabilities, ev.AuthPlugin = g.version, g.connID, g.caps, g.authPlugin
	s.fn(ev)
}

func (s *Session) login(m *Message) {
	l, err := parseHandshakeResponse(m.Prefix)
	if err != nil {
		s.decodeError(ClientToServer, m, "handshake response", err)
		return
	}
	s.clientCaps, s.clientExt = l.caps, l.ext
	if m.Len == sslRequestLen && l.caps&gm.CLIENT_SSL != 0 {
		s.st = stTLS
		ev := s.begin(EventSSLRequest, ClientToServer, m)
		ev.Capabilities = l.caps
		s.fn(ev)
		return
	}
	s.st = stAuth
	ev := s.begin(EventLogin, ClientToServer, m)
	ev.Capabilities, ev.User, ev.DB, ev.AuthPlugin = l.caps, l.user, l.db, l.authPlugin
	s.fn(ev)
}

// authReply handles a server packet of the auth exchange.
func (s *Session) authReply(m *Message) {
	if len(m.Prefix) == 0 {
		s.decodeError(ServerToClient, m, "auth reply", errShort)
		return
	}
	switch m.Prefix[0] {
	case gm.OK_HEADER:
		s.st = stIdle
		s.fn(s.begin(EventLoginOK, ServerToClient, m))
		if s.negotiated(gm.CLIENT_COMPRESS | gm.CLIENT_ZSTD_COMPRESSION_ALGORITHM) {
			s.stop(ServerToClient, m, "compressed protocol")
		}
	case gm.ERR_HEADER:
		e, err := parseErr(m.Prefix)
		if err != nil {
			s.decodeError(ServerToClient, m, "err", err)
			return
		}
		s.st = stIdle // the server closes the connection; COM_CHANGE_USER may go on
		ev := s.begin(EventLoginFailed, ServerToClient, m)
		ev.ErrCode, ev.SQLState, ev.ErrMsg = e.code, e.state, e.msg
		s.fn(ev)
	case gm.EOF_HEADER:
		plugin, err := parseAuthSwitch(m.Prefix)
		if err != nil {
			s.decodeError(ServerToClient, m, "auth switch request", err)
			return
		}
		ev := s.begin(EventAuthSwitch, ServerToClient, m)
		ev.AuthPlugin = plugin
		s.fn(ev)
	case gm.MORE_DATE_HEADER:
		ev := s.begin(EventAuthMoreData, ServerToClient, m)
		if len(m.Prefix) > 1 {
			ev.AuthStatus = m.Prefix[1]
		}
		s.fn(ev)
	default:
		s.decodeError(ServerToClient, m, "auth reply", errorBadHeader(m.Prefix[0]))
	}
}

// negotiated reports whether both peers announced any of the flags.
func (s *Session) negotiated(flags uint32) bool {
	return s.serverCaps&s.clientCaps&flags != 0
}
