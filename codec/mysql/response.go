package mysql

import (
	gm "github.com/go-mysql-org/go-mysql/mysql"
)

// handleResponse follows the server's answer to s.cmd, one packet at a time:
// rows and definitions are counted, never kept.
func (s *Session) handleResponse(m *Message) {
	if len(m.Prefix) == 0 {
		s.decodeError(ServerToClient, m, "response", errShort)
		return
	}
	h := m.Prefix[0]
	if h == gm.ERR_HEADER && s.st != stDefs {
		s.respErr(m)
		return
	}
	switch s.st {
	case stResponse:
		s.firstPacket(m)
	case stColumns:
		if s.colsLeft > 0 {
			s.colsLeft--
			if s.colsLeft == 0 && s.deprecateEOF() {
				s.st = stRows
			}
			return
		}
		if !isEOF(m, false) {
			s.decodeError(ServerToClient, m, "column definitions", errorBadHeader(h))
			return
		}
		o, err := parseEOF(m.Prefix)
		if err != nil {
			s.decodeError(ServerToClient, m, "eof", err)
			return
		}
		s.st = stRows
		if o.status&gm.SERVER_STATUS_CURSOR_EXISTS != 0 {
			s.endResultSet(m, o) // rows come with COM_STMT_FETCH
		}
	case stRows:
		if !isEOF(m, s.deprecateEOF()) {
			s.rows++
			return
		}
		o, err := s.terminator(m)
		if err != nil {
			s.decodeError(ServerToClient, m, "result set terminator", err)
			return
		}
		s.endResultSet(m, o)
	case stDefs:
		if s.defsLeft--; s.defsLeft == 0 {
			s.st = stIdle
		}
	case stFieldList:
		if !isEOF(m, false) {
			s.cols++
			return
		}
		s.endResultSet(m, okPacket{})
	}
}

// skipRows counts the rows that lie whole at the start of p and returns the
// rest: the hot loop of a result set, one header read per row, no event and
// no copy. A packet that is not plainly the next row (a terminator, an ERR,
// an empty or out-of-sequence packet) goes to handle; a row cut by the end
// of p is left to the framer.
func (s *Session) skipRows(p []byte) []byte {
	f := s.fr[ServerToClient]
	for s.st == stRows && len(p) >= headerLen {
		m := f.whole(p)
		if m == nil {
			break
		}
		p = p[headerLen+int(m.Len):]
		if m.Seq != s.seq || len(m.Prefix) == 0 || m.Prefix[0] >= gm.EOF_HEADER {
			s.handle(ServerToClient, m)
			continue
		}
		s.seq++
		s.rows++
	}
	return p
}

// firstPacket decodes the first packet of a response: OK, LOCAL INFILE, a
// prepare OK, an EOF (COM_SET_OPTION, COM_DEBUG), COM_STATISTICS' text, or a
// result set's column count.
func (s *Session) firstPacket(m *Message) {
	p := m.Prefix
	switch {
	case s.cmd == gm.COM_STATISTICS:
		s.st = stIdle
		s.fn(s.respEvent(EventOK, m))
	case p[0] == gm.OK_HEADER && s.cmd == gm.COM_STMT_PREPARE:
		s.prepareOK(m)
	case p[0] == gm.OK_HEADER:
		o, err := parseOK(p)
		if err != nil {
			s.decodeError(ServerToClient, m, "ok", err)
			return
		}
		s.okEvent(m, o)
	case p[0] == gm.EOF_HEADER && isEOF(m, false):
		o, err := parseEOF(p)
		if err != nil {
			s.decodeError(ServerToClient, m, "eof", err)
			return
		}
		s.okEvent(m, o)
	case p[0] == gm.LocalInFile_HEADER && s.cmd == gm.COM_QUERY:
		s.st = stInfile
		ev := s.respEvent(EventLocalInfile, m)
		s.cutSQL(ev, p[1:], m.Len-1)
		s.fn(ev)
	default:
		r := reader{b: p}
		n := r.lenenc("column count")
		if r.err == nil && n == 0 {
			r.err = errorBadHeader(p[0])
		}
		defs := n
		if (s.negotiated(gm.CLIENT_OPTIONAL_RESULTSET_METADATA) || s.mariaDBExt(MariaDBCacheMetadata)) &&
			r.u8("metadata follows") == 0 {
			defs = 0 // the client has the definitions already
		}
		if r.err != nil {
			s.decodeError(ServerToClient, m, "column count", r.err)
			return
		}
		s.cols, s.colsLeft, s.rows = n, defs, 0
		s.st = stColumns
		if defs == 0 && s.deprecateEOF() {
			s.st = stRows
		}
	}
}

// prepareOK decodes COM_STMT_PREPARE_OK and expects its definitions.
func (s *Session) prepareOK(m *Message) {
	r := reader{b: m.Prefix, off: 1}
	id := r.u32("statement id")
	cols := uint64(r.u16("column count"))
	params := uint64(r.u16("parameter count"))
	r.skip(1, "reserved")
	warnings := r.u16("warnings")
	if r.err != nil {
		s.decodeError(ServerToClient, m, "prepare ok", r.err)
		return
	}
	if s.negotiated(gm.CLIENT_OPTIONAL_RESULTSET_METADATA) && r.left() > 0 && r.u8("metadata follows") == 0 {
		cols, params = 0, 0
	}
	ev := s.respEvent(EventPrepareOK, m)
	ev.StmtID, ev.Columns, ev.Params, ev.Warnings = id, cols, params, warnings
	s.defsLeft = cols + params
	if !s.deprecateEOF() {
		s.defsLeft += min(cols, 1) + min(params, 1)
	}
	s.st = stIdle
	if s.defsLeft > 0 {
		s.st = stDefs
	}
	s.fn(ev)
}

// terminator decodes the packet ending a row stream.
func (s *Session) terminator(m *Message) (okPacket, error) {
	if s.deprecateEOF() {
		return parseOK(m.Prefix)
	}
	return parseEOF(m.Prefix)
}

// endResultSet reports a finished result set and expects the next one when
// the server says more results exist.
func (s *Session) endResultSet(m *Message, o okPacket) {
	ev := s.respEvent(EventResultSet, m)
	ev.Columns, ev.Rows, ev.Status, ev.Warnings = s.cols, s.rows, o.status, o.warnings
	s.after(o.status)
	s.fn(ev)
}

// okEvent reports an OK (or EOF) ending a response.
func (s *Session) okEvent(m *Message, o okPacket) {
	ev := s.respEvent(EventOK, m)
	ev.AffectedRows, ev.LastInsertID, ev.Status, ev.Warnings = o.affected, o.lastID, o.status, o.warnings
	s.after(o.status)
	s.fn(ev)
}

// after picks the state once a response (or one result of a multi-result
// response) ended.
func (s *Session) after(status uint16) {
	s.st = stIdle
	if status&gm.SERVER_MORE_RESULTS_EXISTS != 0 {
		s.st = stResponse
	}
}

func (s *Session) respErr(m *Message) {
	e, err := parseErr(m.Prefix)
	if err != nil {
		s.decodeError(ServerToClient, m, "err", err)
		return
	}
	if e.code == progressCode {
		return // MariaDB progress report: the command goes on
	}
	s.st = stIdle
	ev := s.respEvent(EventErr, m)
	ev.ErrCode, ev.SQLState, ev.ErrMsg = e.code, e.state, e.msg
	s.fn(ev)
}

func (s *Session) respEvent(k EventKind, m *Message) *Event {
	ev := s.begin(k, ServerToClient, m)
	ev.Command = s.cmd
	return ev
}

func (s *Session) deprecateEOF() bool { return s.negotiated(gm.CLIENT_DEPRECATE_EOF) }
