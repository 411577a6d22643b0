package mysql

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	gm "github.com/go-mysql-org/go-mysql/mysql"
)

const deprecate = baseCaps | gm.CLIENT_DEPRECATE_EOF

func TestSessionConnectionPhase(t *testing.T) {
	tests := []struct {
		name  string
		input []step
		want  []string
	}{
		{
			name:  "native password login",
			input: handshake(baseCaps),
			want: []string{"greeting/0 8.0.36 mysql_native_password", "login/1 app@shop mysql_native_password",
				"login_ok/2"},
		},
		{
			name: "caching_sha2 fast auth",
			input: []step{
				sv(0, greetingPayload(baseCaps, gm.AUTH_CACHING_SHA2_PASSWORD)),
				c(1, loginPayload(baseCaps, "app", "shop", gm.AUTH_CACHING_SHA2_PASSWORD)),
				sv(2, []byte{gm.MORE_DATE_HEADER, gm.CACHE_SHA2_FAST_AUTH}),
				sv(3, okPayload(0, 2)),
			},
			want: []string{"greeting/0 8.0.36 caching_sha2_password", "login/1 app@shop caching_sha2_password",
				"auth_more_data/2 3", "login_ok/3"},
		},
		{
			name: "caching_sha2 full auth with public key",
			input: []step{
				sv(0, greetingPayload(baseCaps, gm.AUTH_CACHING_SHA2_PASSWORD)),
				c(1, loginPayload(baseCaps, "app", "", gm.AUTH_CACHING_SHA2_PASSWORD)),
				sv(2, []byte{gm.MORE_DATE_HEADER, gm.CACHE_SHA2_FULL_AUTH}),
				c(3, []byte{2}), // request public key
				sv(4, append([]byte{gm.MORE_DATE_HEADER}, "-----BEGIN PUBLIC KEY-----"...)),
				c(5, bytes.Repeat([]byte{7}, 256)),
				sv(6, okPayload(0, 2)),
			},
			want: []string{"greeting/0 8.0.36 caching_sha2_password", "login/1 app@ caching_sha2_password",
				"auth_more_data/2 4", "auth_more_data/4 45", "login_ok/6"},
		},
		{
			name: "auth switch to ed25519 then failure",
			input: []step{
				sv(0, greetingPayload(baseCaps, gm.AUTH_NATIVE_PASSWORD)),
				c(1, loginPayload(baseCaps, "ed", "shop", gm.AUTH_NATIVE_PASSWORD)),
				sv(2, append([]byte{0xfe}, "client_ed25519\x00scramble0123456789012345678901"...)),
				c(3, make([]byte, 64)),
				sv(4, errPayload(1045, "Access denied")),
			},
			want: []string{"greeting/0 8.0.36 mysql_native_password", "login/1 ed@shop mysql_native_password",
				"auth_switch/2 client_ed25519", "login_failed/4 1045 42000 Access denied"},
		},
		{
			name: "old auth switch",
			input: cat(handshake(baseCaps)[:2], []step{sv(2, []byte{0xfe}), c(3, []byte("12345678\x00")),
				sv(4, okPayload(0, 2))}),
			want: []string{"greeting/0 8.0.36 mysql_native_password", "login/1 app@shop mysql_native_password",
				"auth_switch/2 mysql_old_password", "login_ok/4"},
		},
		{
			name: "ssl request stops decoding, rest of the chunk is TLS",
			input: []step{
				sv(0, greetingPayload(baseCaps|gm.CLIENT_SSL, gm.AUTH_NATIVE_PASSWORD)),
				{ClientToServer, append(pkt(1, sslRequestPayload(baseCaps)), 0x16, 3, 1, 0, 5)},
				{ServerToClient, []byte{0x16, 3, 3, 0, 0x7a}},
			},
			want: []string{"greeting/0 8.0.36 mysql_native_password", "ssl_request/1"},
		},
		{
			name: "server refuses the connection",
			input: []step{{ServerToClient, pkt(0, []byte("\xff\x10\x04Too many connections"))},
				c(1, loginPayload(baseCaps, "a", "", ""))},
			want: []string{"err/0 1040  Too many connections"},
		},
		{
			name:  "bad protocol version stops",
			input: []step{sv(0, []byte{9, 'x', 0}), c(1, loginPayload(baseCaps, "a", "", ""))},
			want: []string{"decode_error/0 mysql: decoding greeting (server, seq 0): unsupported protocol version 9",
				"stopped/0 undecodable greeting"},
		},
		{
			name:  "truncated greeting",
			input: []step{sv(0, []byte{10, 'x', 0, 1})},
			want: []string{"decode_error/0 mysql: decoding greeting (server, seq 0): connection id at offset 3: payload too short",
				"stopped/0 undecodable greeting"},
		},
		{
			name: "compression stops after login",
			input: []step{
				sv(0, greetingPayload(baseCaps|gm.CLIENT_COMPRESS, gm.AUTH_NATIVE_PASSWORD)),
				c(1, loginPayload(baseCaps|gm.CLIENT_COMPRESS, "app", "shop", gm.AUTH_NATIVE_PASSWORD)),
				sv(2, okPayload(0, 2)),
				{ClientToServer, []byte{9, 0, 0, 0, 0, 0, 0, 1, 2, 3}},
			},
			want: []string{"greeting/0 8.0.36 mysql_native_password", "login/1 app@shop mysql_native_password",
				"login_ok/2", "stopped/2 compressed protocol"},
		},
		{
			name:  "login out of sequence",
			input: []step{sv(0, greetingPayload(baseCaps, "")), c(2, loginPayload(baseCaps, "a", "", ""))},
			want: []string{"greeting/0 8.0.36 ",
				"protocol_error/0 mysql: protocol error (client, seq 2): unexpected sequence id"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := run(Config{}, tt.input)
			if !slices.Equal(got, tt.want) {
				t.Errorf("events:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestSSLRequestEndAndResume(t *testing.T) {
	greet := pkt(0, greetingPayload(baseCaps|gm.CLIENT_SSL, ""))
	ssl := pkt(1, sslRequestPayload(baseCaps))
	var end int64 = -1
	var kinds []string
	s := NewSession(Config{}, func(ev *Event) {
		kinds = append(kinds, short(ev))
		if ev.Kind == EventSSLRequest {
			end = ev.End
		}
	})
	s.Feed(ServerToClient, greet)
	s.Feed(ClientToServer, append(ssl, "TLS bytes"...))
	if end != int64(len(ssl)) {
		t.Fatalf("SSLRequest End = %d, want %d", end, len(ssl))
	}
	if !s.Stopped() {
		t.Fatal("session decodes TLS bytes")
	}
	s.ResumeTLS()
	s.Feed(ClientToServer, pkt(2, loginPayload(baseCaps, "tls", "db", "")))
	s.Feed(ServerToClient, pkt(3, okPayload(0, 2)))
	s.Feed(ClientToServer, pkt(0, cmdPayload(gm.COM_PING, "")))
	s.Feed(ServerToClient, pkt(1, okPayload(0, 2)))
	want := []string{"greeting/0 8.0.36 ", "ssl_request/1", "login/2 tls@db ", "login_ok/3",
		"command/0 ping", "ok/1 ping affected=0"}
	if !slices.Equal(kinds, want) {
		t.Errorf("events:\n got %q\nwant %q", kinds, want)
	}
}

func TestSessionCommandPhase(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := []struct {
		name  string
		caps  uint32
		cfg   Config
		input []step
		want  []string
	}{
		{
			name: "classic EOF result set",
			caps: baseCaps,
			input: []step{c(0, cmdPayload(gm.COM_QUERY, "SELECT a, b FROM t")),
				sv(1, []byte{2}), sv(2, colDefPayload("a")), sv(3, colDefPayload("b")), sv(4, eofPayload(2)),
				sv(5, []byte("\x011\x012")), sv(6, []byte("\xfb\x013")), sv(7, eofPayload(2))},
			want: []string{`command/0 query "SELECT a, b FROM t"`, "result_set/7 query 2x2"},
		},
		{
			name: "deprecate EOF result set: a 0xfc row is a row, a short 0xfe packet the end",
			caps: deprecate,
			input: []step{c(0, cmdPayload(gm.COM_QUERY, "SELECT a")),
				sv(1, []byte{1}), sv(2, colDefPayload("a")),
				sv(3, append([]byte{0xfc, 9, 0}, "123456789"...)),
				sv(4, append([]byte{0xfe}, okPayload(0, 2)[1:]...))},
			want: []string{`command/0 query "SELECT a"`, "result_set/4 query 1x1"},
		},
		{
			name: "multi results",
			caps: deprecate,
			input: []step{c(0, cmdPayload(gm.COM_QUERY, "CALL p()")),
				sv(1, []byte{1}), sv(2, colDefPayload("a")), sv(3, []byte("\x011")),
				sv(4, append([]byte{0xfe}, okPayload(0, gm.SERVER_MORE_RESULTS_EXISTS|2)[1:]...)),
				sv(5, okPayload(3, 2))},
			want: []string{`command/0 query "CALL p()"`, "result_set/4 query 1x1", "ok/5 query affected=3"},
		},
		{
			name:  "sql prefix cut",
			caps:  baseCaps,
			cfg:   Config{SQLPrefix: 10},
			input: []step{c(0, cmdPayload(gm.COM_QUERY, "SELECT "+long)), sv(1, okPayload(0, 2))},
			want:  []string{`command/0 query "SELECT xxx" truncated`, "ok/1 query affected=0"},
		},
		{
			name: "query attributes skipped",
			caps: baseCaps | gm.CLIENT_QUERY_ATTRIBUTES,
			input: []step{c(0, append([]byte{gm.COM_QUERY, 0, 1}, "SELECT 1"...)),
				c(0, append([]byte{gm.COM_QUERY, 1, 1}, "\x00\x01\x08\x00\x01a\x01\x00\x00\x00\x00\x00\x00\x00SELECT 2"...))},
			want: []string{`command/0 query "SELECT 1"`,
				"protocol_error/0 mysql: protocol error (client, seq 0): command before the previous response ended",
				`command/0 query "" truncated`},
		},
		{
			name: "prepare, execute with cursor, fetch, close",
			caps: baseCaps,
			input: []step{c(0, cmdPayload(gm.COM_STMT_PREPARE, "SELECT a FROM t WHERE b = ?")),
				sv(1, []byte{0, 7, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0}),
				sv(2, colDefPayload("?")), sv(3, eofPayload(2)), sv(4, colDefPayload("a")), sv(5, eofPayload(2)),
				c(0, stmtPayload(gm.COM_STMT_EXECUTE, 7, 1, 1, 0, 0, 0, 0, 1, 8, 0, 5, 0, 0, 0, 0, 0, 0, 0)),
				sv(1, []byte{1}), sv(2, colDefPayload("a")), sv(3, eofPayload(2|gm.SERVER_STATUS_CURSOR_EXISTS)),
				c(0, stmtPayload(gm.COM_STMT_FETCH, 7, 10, 0, 0, 0)),
				sv(1, []byte{0, 0, 1}), sv(2, []byte{0, 0, 2}), sv(3, eofPayload(2|gm.SERVER_STATUS_LAST_ROW_SEND)),
				c(0, stmtPayload(gm.COM_STMT_RESET, 7)), sv(1, okPayload(0, 2)),
				c(0, stmtPayload(gm.COM_STMT_CLOSE, 7)),
				c(0, cmdPayload(gm.COM_PING, "")), sv(1, okPayload(0, 2)),
			},
			want: []string{`command/0 stmt_prepare "SELECT a FROM t WHERE b = ?"`, "prepare_ok/1 stmt=7 params=1 cols=1",
				"command/0 stmt_execute stmt=7", "result_set/3 stmt_execute 0x1",
				"command/0 stmt_fetch stmt=7", "result_set/3 stmt_fetch 2x0",
				"command/0 stmt_reset stmt=7", "ok/1 stmt_reset affected=0",
				"command/0 stmt_close stmt=7", "command/0 ping", "ok/1 ping affected=0"},
		},
		{
			name: "error in the middle of rows, then init db",
			caps: deprecate,
			input: []step{c(0, cmdPayload(gm.COM_QUERY, "SELECT a")),
				sv(1, []byte{1}), sv(2, colDefPayload("a")), sv(3, []byte("\x011")),
				sv(4, errPayload(1317, "Query execution was interrupted")),
				c(0, cmdPayload(gm.COM_INIT_DB, "other")), sv(1, okPayload(0, 2))},
			want: []string{`command/0 query "SELECT a"`, "err/4 1317 42000 Query execution was interrupted",
				"command/0 init_db @other", "ok/1 init_db affected=0"},
		},
		{
			name: "local infile",
			caps: baseCaps | gm.CLIENT_LOCAL_FILES,
			input: []step{c(0, cmdPayload(gm.COM_QUERY, "LOAD DATA LOCAL INFILE 'f' INTO TABLE t")),
				sv(1, []byte("\xfbf")), c(2, []byte("1,a\n")), c(3, []byte("2,b\n")), c(4, nil),
				sv(5, okPayload(2, 2))},
			want: []string{`command/0 query "LOAD DATA LOCAL INFILE 'f' INTO TABLE t"`, "local_infile/1 f",
				"ok/5 query affected=2"},
		},
		{
			name: "mariadb progress report is not an error",
			caps: baseCaps,
			input: []step{c(0, cmdPayload(gm.COM_QUERY, "ALTER TABLE t ENGINE=InnoDB")),
				sv(1, []byte("\xff\xff\xff\x01\x01\x00\x10\x00\x00\x05stage")), sv(2, okPayload(0, 2))},
			want: []string{`command/0 query "ALTER TABLE t ENGINE=InnoDB"`, "ok/2 query affected=0"},
		},
		{
			name: "field list, statistics, set option",
			caps: baseCaps,
			input: []step{c(0, cmdPayload(gm.COM_FIELD_LIST, "t\x00")), sv(1, colDefPayload("a")),
				sv(2, colDefPayload("b")), sv(3, eofPayload(2)),
				c(0, cmdPayload(gm.COM_STATISTICS, "")), sv(1, []byte("Uptime: 5  Threads: 1")),
				c(0, cmdPayload(gm.COM_SET_OPTION, "\x00\x00")), sv(1, eofPayload(2))},
			want: []string{"command/0 field_list", "result_set/3 field_list 0x2", "command/0 statistics",
				"ok/1 statistics affected=0", "command/0 set_option", "ok/1 set_option affected=0"},
		},
		{
			name: "wrong response sequence, then resync on the next command",
			caps: baseCaps,
			input: []step{c(0, cmdPayload(gm.COM_QUERY, "SELECT 1")), sv(5, okPayload(0, 2)),
				sv(6, okPayload(0, 2)), c(0, cmdPayload(gm.COM_PING, "")), sv(1, okPayload(0, 2))},
			want: []string{`command/0 query "SELECT 1"`,
				"protocol_error/0 mysql: protocol error (server, seq 5): unexpected sequence id",
				"command/0 ping", "ok/1 ping affected=0"},
		},
		{
			name:  "server speaks without a command; unsolicited error is fine",
			caps:  baseCaps,
			input: []step{sv(0, errPayload(4031, "timeout")), sv(0, okPayload(0, 2)), c(0, cmdPayload(gm.COM_QUIT, ""))},
			want: []string{"err/0 4031 42000 timeout",
				"protocol_error/0 mysql: protocol error (server, seq 0): server packet with no command pending",
				"command/0 quit"},
		},
		{
			name: "malformed OK is a decode error",
			caps: baseCaps,
			input: []step{c(0, cmdPayload(gm.COM_PING, "")), sv(1, []byte{0, 0xfc, 1}),
				c(0, cmdPayload(gm.COM_PING, "")), sv(1, okPayload(0, 2))},
			want: []string{"command/0 ping",
				"decode_error/1 mysql: decoding ok (server, seq 1): affected rows at offset 2: payload too short",
				"command/0 ping", "ok/1 ping affected=0"},
		},
		{
			name:  "empty command",
			caps:  baseCaps,
			input: []step{c(0, nil)},
			want:  []string{"decode_error/0 mysql: decoding command (client, seq 0): payload too short"},
		},
		{
			name: "change user re-authenticates",
			caps: baseCaps,
			input: []step{c(0, append([]byte{gm.COM_CHANGE_USER}, "bob\x00\x00other\x00\x21\x00mysql_native_password\x00"...)),
				sv(1, append([]byte{0xfe}, "mysql_native_password\x00abcdefghijklmnopqrst\x00"...)), c(2, make([]byte, 20)),
				sv(3, okPayload(0, 2))},
			want: []string{"command/0 change_user bob@other", "auth_switch/1 mysql_native_password", "login_ok/3"},
		},
		{
			name:  "binlog dump stops decoding",
			caps:  baseCaps,
			input: []step{c(0, cmdPayload(gm.COM_BINLOG_DUMP, "\x04\x00\x00\x00\x00\x00\x02\x00\x00\x00")), sv(1, []byte{0, 1, 2})},
			want:  []string{"command/0 binlog_dump", "stopped/0 replication stream"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := run(tt.cfg, cat(handshake(tt.caps), tt.input))
			got = got[3:] // greeting, login, login_ok
			if !slices.Equal(got, tt.want) {
				t.Errorf("events:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
