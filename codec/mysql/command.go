package mysql

import (
	"encoding/binary"
	"fmt"
	"strconv"

	gm "github.com/go-mysql-org/go-mysql/mysql"
)

var commandNames = [...]string{
	gm.COM_SLEEP: "sleep", gm.COM_QUIT: "quit", gm.COM_INIT_DB: "init_db", gm.COM_QUERY: "query",
	gm.COM_FIELD_LIST: "field_list", gm.COM_CREATE_DB: "create_db", gm.COM_DROP_DB: "drop_db",
	gm.COM_REFRESH: "refresh", gm.COM_SHUTDOWN: "shutdown", gm.COM_STATISTICS: "statistics",
	gm.COM_PROCESS_INFO: "process_info", gm.COM_CONNECT: "connect", gm.COM_PROCESS_KILL: "process_kill",
	gm.COM_DEBUG: "debug", gm.COM_PING: "ping", gm.COM_TIME: "time", gm.COM_DELAYED_INSERT: "delayed_insert",
	gm.COM_CHANGE_USER: "change_user", gm.COM_BINLOG_DUMP: "binlog_dump", gm.COM_TABLE_DUMP: "table_dump",
	gm.COM_CONNECT_OUT: "connect_out", gm.COM_REGISTER_SLAVE: "register_slave",
	gm.COM_STMT_PREPARE: "stmt_prepare", gm.COM_STMT_EXECUTE: "stmt_execute",
	gm.COM_STMT_SEND_LONG_DATA: "stmt_send_long_data", gm.COM_STMT_CLOSE: "stmt_close",
	gm.COM_STMT_RESET: "stmt_reset", gm.COM_SET_OPTION: "set_option", gm.COM_STMT_FETCH: "stmt_fetch",
	gm.COM_DAEMON: "daemon", gm.COM_BINLOG_DUMP_GTID: "binlog_dump_gtid",
	gm.COM_RESET_CONNECTION: "reset_connection", gm.COM_CLONE: "clone",
}

// CommandName returns a command's snake_case name without the COM_ prefix
// ("query", "stmt_execute"), or "unknown_<n>".
func CommandName(cmd byte) string {
	if int(cmd) < len(commandNames) && commandNames[cmd] != "" {
		return commandNames[cmd]
	}
	if cmd == ComStmtBulkExecute {
		return "stmt_bulk_execute"
	}
	return "unknown_" + strconv.Itoa(int(cmd))
}

// KnownCommand reports whether cmd is a command byte of MySQL or MariaDB.
func KnownCommand(cmd byte) bool {
	return (int(cmd) < len(commandNames) && commandNames[cmd] != "") || cmd == ComStmtBulkExecute
}

// handleCommand decodes a client command (sequence id 0) and sets up the
// expected response. An unknown command byte is a decode error: the server
// answers it with ERR 1047 (Unknown command), which resync skips.
func (s *Session) handleCommand(m *Message) {
	if m.Len == 0 {
		s.decodeError(ClientToServer, m, "command", errShort)
		return
	}
	p := m.Prefix
	if !KnownCommand(p[0]) {
		s.decodeError(ClientToServer, m, "command", fmt.Errorf("unknown command 0x%02x", p[0]))
		return
	}
	s.cmd = p[0]
	ev := s.begin(EventCommand, ClientToServer, m)
	ev.Command = s.cmd
	next := stResponse
	switch s.cmd {
	case gm.COM_QUERY:
		if !s.querySQL(ev, m) {
			return
		}
	case gm.COM_STMT_PREPARE:
		s.cutSQL(ev, p[1:], m.Len-1)
	case gm.COM_INIT_DB:
		ev.DB = p[1:]
	case gm.COM_STMT_EXECUTE, gm.COM_STMT_FETCH, gm.COM_STMT_RESET,
		gm.COM_STMT_CLOSE, gm.COM_STMT_SEND_LONG_DATA:
		if len(p) < 5 {
			s.decodeError(ClientToServer, m, CommandName(s.cmd), errShort)
			return
		}
		ev.StmtID = binary.LittleEndian.Uint32(p[1:])
		if s.cmd == gm.COM_STMT_FETCH {
			next = stRows
			s.cols, s.rows = 0, 0
		}
		if s.cmd == gm.COM_STMT_CLOSE || s.cmd == gm.COM_STMT_SEND_LONG_DATA {
			next = stIdle // no response
		}
	case gm.COM_QUIT:
		next = stIdle
	case gm.COM_CHANGE_USER:
		l, err := parseChangeUser(p[1:], s.clientCaps)
		if err != nil {
			s.decodeError(ClientToServer, m, "change user", err)
			return
		}
		ev.User, ev.DB, ev.AuthPlugin = l.user, l.db, l.authPlugin
		next = stAuth
	case gm.COM_FIELD_LIST:
		next = stFieldList
	}
	s.st = next
	s.fn(ev)
	if s.cmd == gm.COM_BINLOG_DUMP || s.cmd == gm.COM_BINLOG_DUMP_GTID || s.cmd == gm.COM_CLONE {
		s.stop(ClientToServer, m, "replication stream")
	}
}

// querySQL finds the SQL of a COM_QUERY, skipping query attributes when
// both peers use CLIENT_QUERY_ATTRIBUTES. Attributes with parameters are
// not decoded: the event then carries no SQL and Truncated.
func (s *Session) querySQL(ev *Event, m *Message) bool {
	r := reader{b: m.Prefix, off: 1}
	if s.negotiated(gm.CLIENT_QUERY_ATTRIBUTES) {
		params := r.lenenc("parameter count")
		r.lenenc("parameter set count")
		if r.err != nil {
			s.decodeError(ClientToServer, m, "query", r.err)
			return false
		}
		if params > 0 {
			ev.Truncated = true
			return true
		}
	}
	s.cutSQL(ev, m.Prefix[r.off:], m.Len-int64(r.off))
	return true
}

// cutSQL sets ev.SQL to at most sqlPrefix bytes of the statement text.
func (s *Session) cutSQL(ev *Event, sql []byte, full int64) {
	if len(sql) > s.sqlPrefix {
		sql = sql[:s.sqlPrefix]
	}
	ev.SQL = sql
	ev.Truncated = int64(len(sql)) < full
}
