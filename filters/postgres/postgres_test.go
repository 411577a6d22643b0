package postgres

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	pg "github.com/sluice-proxy/sluice/codec/postgres"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/sqlmeta"
)

type msg = interface {
	Encode([]byte) ([]byte, error)
}

func TestStats(t *testing.T) {
	authOK := &pgproto3.AuthenticationOk{}
	idle := &pgproto3.ReadyForQuery{TxStatus: 'I'}
	cc := func(tag string) msg { return &pgproto3.CommandComplete{CommandTag: []byte(tag)} }
	q := func(sql string) msg { return &pgproto3.Query{String: sql} }
	tests := []struct {
		name   string
		client []msg
		server []msg
		late   []msg // client messages after the server's answers
		want   map[string]uint64
	}{{
		name:   "implicit select",
		client: []msg{startup("db", "u"), q("SELECT 1")},
		server: []msg{authOK, idle, &pgproto3.RowDescription{}, &pgproto3.DataRow{Values: [][]byte{[]byte("1")}}, cc("SELECT 1"), idle},
		want: map[string]uint64{"sessions": 1, "sessions_unencrypted": 1, "statements": 1, "statements_select": 1,
			"transactions": 1, "transactions_commit": 1, "messages": 7, "messages_frontend": 1, "messages_backend": 6,
			"statements_parsed": 1},
	}, {
		name:   "explicit transaction rolled back by Terminate",
		client: []msg{startup("db", "u"), q("BEGIN"), q("INSERT INTO t VALUES (1)")},
		server: []msg{authOK, idle, cc("BEGIN"), cc("INSERT 0 1")},
		late:   []msg{&pgproto3.Terminate{}},
		want: map[string]uint64{"statements": 2, "statements_other": 1, "statements_insert": 1,
			"transactions": 1, "transactions_commit": 0, "transactions_rollback": 1, "messages_frontend": 3},
	}, {
		name:   "commit, rollback, and statements inside are not transactions",
		client: []msg{startup("db", "u")},
		server: []msg{cc("START TRANSACTION"), cc("UPDATE 2"), cc("DELETE 1"), cc("COMMIT"), cc("BEGIN"), cc("ROLLBACK"), cc("CREATE TABLE")},
		want: map[string]uint64{"statements": 7, "statements_other": 5, "statements_update": 1, "statements_delete": 1,
			"transactions": 3, "transactions_commit": 2, "transactions_rollback": 1},
	}, {
		name:   "errors and notices by severity",
		client: []msg{startup("db", "u")},
		server: []msg{
			&pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "23505"},
			&pgproto3.ErrorResponse{Severity: "FATAL", Code: "28P01"},
			&pgproto3.ErrorResponse{Severity: "PANIC", Code: "XX000"},
			&pgproto3.ErrorResponse{Severity: "FEHLER", Code: "42000"},
			&pgproto3.NoticeResponse{Severity: "NOTICE", SeverityUnlocalized: "NOTICE"},
			&pgproto3.NoticeResponse{Severity: "WARNING"}, &pgproto3.NoticeResponse{Severity: "LOG"},
			&pgproto3.NoticeResponse{Severity: "INFO"}, &pgproto3.NoticeResponse{Severity: "DEBUG"},
			&pgproto3.NoticeResponse{Severity: "HINWEIS"},
		},
		want: map[string]uint64{"errors": 4, "errors_error": 1, "errors_fatal": 1, "errors_panic": 1, "errors_unknown": 1,
			"notices": 6, "notices_notice": 1, "notices_warning": 1, "notices_log": 1, "notices_info": 1,
			"notices_debug": 1, "notices_unknown": 1, "messages_backend": 10},
	}, {
		name:   "parse error and extended protocol",
		client: []msg{startup("db", "u"), q("SELEC oops"), &pgproto3.Parse{Query: "SELECT a FROM t WHERE b = $1"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{}},
		server: []msg{&pgproto3.ParseComplete{}, &pgproto3.BindComplete{}, cc("SELECT 0"), idle},
		want: map[string]uint64{"statements_parsed": 1, "statements_parse_error": 1, "messages_frontend": 5,
			"messages_backend": 4, "messages": 9, "statements_select": 1},
	}}
	for _, tt := range tests {
		for _, loop := range []bool{false, true} {
			name := tt.name
			if loop {
				name += " (event loop)"
			}
			t.Run(name, func(t *testing.T) {
				f, st := newTestFilter(t, nil)
				client := enc(t, tt.client...)
				late := lateBytes(t, tt.late)
				var toServer []byte
				var err error
				if loop {
					toServer, err = handoverSession(t, f, newSession(), client, enc(t, tt.server...), late)
				} else {
					toServer, _, err = session(t, f, newSession(), client, enc(t, tt.server...), late)
				}
				if err != nil {
					t.Fatal(err)
				}
				if want := append(append([]byte(nil), client...), late...); !bytes.Equal(toServer, want) {
					t.Errorf("the server got %q, want the client's bytes %q", toServer, want)
				}
				// On a loop, a new statement is parsed off the loop's
				// thread: its counts arrive a little later.
				var got map[string]uint64
				poll.Until(10*time.Second, func() bool {
					got = counters(st, tt.want)
					return got["statements_parsed"] == tt.want["statements_parsed"] &&
						got["statements_parse_error"] == tt.want["statements_parse_error"]
				})
				for k, v := range tt.want {
					if got[k] != v {
						t.Errorf("%s = %d, want %d", k, got[k], v)
					}
				}
			})
		}
	}
}

func TestMalformed(t *testing.T) {
	good := enc(t, startup("db", "u"))
	tests := []struct {
		name        string
		client      []byte
		wantUnknown uint64
	}{
		{name: "startup length too short", client: []byte{0, 0, 0, 2, 0, 3, 0, 0}},
		{name: "startup length too long", client: []byte{0, 1, 0, 0, 0, 3, 0, 0}},
		{name: "truncated startup", client: good[:len(good)-3]},
		{name: "bad protocol", client: []byte{0, 0, 0, 8, 0, 9, 0, 0}},
		{name: "unknown message type", client: append(append([]byte{}, good...), '@', 0, 0, 0, 4), wantUnknown: 1},
		{name: "message length below 4", client: append(append([]byte{}, good...), 'Q', 0, 0, 0, 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, st := newTestFilter(t, nil)
			_, _, err := session(t, f, newSession(), tt.client, nil, nil)
			if !errors.Is(err, errProtocol) {
				t.Fatalf("err = %v, want a protocol error", err)
			}
			got := counters(st, map[string]uint64{"protocol_errors": 0, "messages_unknown": 0})
			if got["protocol_errors"] != 1 || got["messages_unknown"] != tt.wantUnknown {
				t.Errorf("protocol_errors %d, messages_unknown %d; want 1, %d", got["protocol_errors"], got["messages_unknown"], tt.wantUnknown)
			}
		})
	}
}

func TestMetadata(t *testing.T) {
	f, _ := newTestFilter(t, nil)
	s := newSession()
	client := enc(t, startup("db", "u"), &pgproto3.Query{String: `WITH x AS (SELECT * FROM s.a) INSERT INTO "B" SELECT * FROM x JOIN c ON true`})
	if _, _, err := session(t, f, s, client, nil, nil); err != nil {
		t.Fatal(err)
	}
	v, ok := s.Metadata(MetadataNamespace)
	if !ok {
		t.Fatal("no metadata")
	}
	st := sqlmeta.Statement{}
	for tbl, ops := range v.(map[string][]string) {
		for _, op := range ops {
			st.Add(tbl, sqlmeta.Op(op))
		}
	}
	if got, want := st.String(), "B: insert; c: select; s.a: select"; got != want {
		t.Errorf("metadata %q, want %q", got, want)
	}
}

// denyGate refuses statements touching table "secret".
type denyGate struct{ close bool }

func (g denyGate) CheckSQL(_ *filters.Session, stmts []sqlmeta.Statement) filters.SQLVerdict {
	for i := range stmts {
		if stmts[i].Has("secret", sqlmeta.OpSelect) {
			return filters.SQLVerdict{Deny: !g.close, Close: g.close, Policy: "no-secrets"}
		}
	}
	return filters.SQLVerdict{}
}

func TestGate(t *testing.T) {
	idle := &pgproto3.ReadyForQuery{TxStatus: 'I'}
	failedTx := &pgproto3.ReadyForQuery{TxStatus: 'E'}
	auth := enc(t, &pgproto3.AuthenticationOk{}, idle)
	// what the server answers to the replacement: its own 42501
	denied := raw(pg.AppendError(nil, "ERROR", "42501", `permission denied by sluice policy "no-secrets"`))
	other := raw(pg.AppendError(nil, "ERROR", "22012", "division by zero"))
	parsed, bound := &pgproto3.ParseComplete{}, &pgproto3.BindComplete{}
	cc := &pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")}
	okQ := &pgproto3.Query{String: "SELECT 1"}
	badQ := &pgproto3.Query{String: "SELECT * FROM secret"}
	badP := &pgproto3.Parse{Name: "s1", Query: "SELECT * FROM secret"}
	okP := &pgproto3.Parse{Query: "SELECT 1"}
	denyQ := raw(appendDenyQuery(nil, "no-secrets"))
	denyX := raw(appendDenyExtended(nil, "no-secrets"))
	st := startup("db", "u")
	tests := []struct {
		name       string
		close      bool
		client     []msg
		server     []msg // what the server answers to what it got
		wantServer []msg
		wantClient []msg
		wantErr    error
		wantDenied int
	}{{
		name:       "simple query replaced, the server answers it",
		client:     []msg{st, badQ, okQ},
		server:     []msg{denied, idle, cc, idle},
		wantServer: []msg{st, denyQ, okQ},
		wantClient: []msg{denied, idle, cc, idle},
		wantDenied: 1,
	}, {
		name:       "in a transaction the server fails it",
		client:     []msg{st, &pgproto3.Query{String: "BEGIN"}, badQ, &pgproto3.Query{String: "COMMIT"}},
		server:     []msg{&pgproto3.CommandComplete{CommandTag: []byte("BEGIN")}, &pgproto3.ReadyForQuery{TxStatus: 'T'}, denied, failedTx, &pgproto3.CommandComplete{CommandTag: []byte("ROLLBACK")}, idle},
		wantServer: []msg{st, &pgproto3.Query{String: "BEGIN"}, denyQ, &pgproto3.Query{String: "COMMIT"}},
		wantClient: []msg{&pgproto3.CommandComplete{CommandTag: []byte("BEGIN")}, &pgproto3.ReadyForQuery{TxStatus: 'T'}, denied, failedTx, &pgproto3.CommandComplete{CommandTag: []byte("ROLLBACK")}, idle},
		wantDenied: 1,
	}, {
		name:       "denied Parse first in its batch: the answers to the replacement are dropped",
		client:     []msg{st, badP, &pgproto3.Bind{}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{}, okQ},
		server:     []msg{parsed, bound, denied, idle, cc, idle},
		wantServer: []msg{st, denyX, &pgproto3.Bind{}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{}, okQ},
		wantClient: []msg{denied, idle, cc, idle},
		wantDenied: 1,
	}, {
		name: "denied Parse in a pipeline after allowed ones",
		client: []msg{st, okP, &pgproto3.Bind{}, &pgproto3.Execute{}, badP, &pgproto3.Describe{ObjectType: 'S', Name: "s1"},
			&pgproto3.Sync{}, okP, &pgproto3.Sync{}},
		server: []msg{parsed, bound, cc, parsed, bound, denied, idle, parsed, idle},
		wantServer: []msg{st, okP, &pgproto3.Bind{}, &pgproto3.Execute{}, denyX, &pgproto3.Describe{ObjectType: 'S', Name: "s1"},
			&pgproto3.Sync{}, okP, &pgproto3.Sync{}},
		wantClient: []msg{parsed, bound, cc, denied, idle, parsed, idle},
		wantDenied: 1,
	}, {
		name:       "batch failed before the denial: the server skips the replacement",
		client:     []msg{st, okP, &pgproto3.Bind{}, &pgproto3.Execute{}, badP, &pgproto3.Sync{}, okP, &pgproto3.Bind{}, &pgproto3.Sync{}},
		server:     []msg{parsed, bound, other, idle, parsed, bound, idle},
		wantServer: []msg{st, okP, &pgproto3.Bind{}, &pgproto3.Execute{}, denyX, &pgproto3.Sync{}, okP, &pgproto3.Bind{}, &pgproto3.Sync{}},
		wantClient: []msg{parsed, bound, other, idle, parsed, bound, idle},
		wantDenied: 1,
	}, {
		name:       "two denials in one batch, the second skipped by the server",
		client:     []msg{st, badP, badP, &pgproto3.Sync{}},
		server:     []msg{parsed, bound, denied, idle},
		wantServer: []msg{st, denyX, denyX, &pgproto3.Sync{}},
		wantClient: []msg{denied, idle},
		wantDenied: 2,
	}, {
		name:       "close verdict ends the connection",
		close:      true,
		client:     []msg{st, badQ},
		wantServer: []msg{st},
		wantErr:    errDenyClose,
		wantDenied: 1,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, stats := newTestFilter(t, nil)
			s := newSession()
			s.AddSQLGate(denyGate{close: tt.close})
			server := auth
			if len(tt.server) > 0 {
				server = concat(auth, enc(t, tt.server...))
			}
			toServer, toClient, err := session(t, f, s, enc(t, tt.client...), server, nil)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if want := enc(t, tt.wantServer...); !bytes.Equal(toServer, want) {
				t.Errorf("server got\n%q\nwant\n%q", toServer, want)
			}
			if tt.wantErr == nil {
				if want := concat(auth, enc(t, tt.wantClient...)); !bytes.Equal(toClient, want) {
					t.Errorf("client got\n%q\nwant\n%q", toClient, want)
				}
			}
			if got, _ := stats.CounterValue("postgres.t.statements_denied"); got != uint64(tt.wantDenied) {
				t.Errorf("statements_denied = %d, want %d", got, tt.wantDenied)
			}
		})
	}
}

func TestDenySQL(t *testing.T) {
	const pre, post = "DO $sluice$ BEGIN RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = E'", "'; END $sluice$"
	tests := []struct {
		name, input, want string
	}{
		{name: "plain", input: "no deletes", want: "no deletes"},
		{name: "quote backslash dollar", input: `a'b\c$sluice$`, want: `a\x27b\x5cc\x24sluice\x24`},
		{name: "non-ASCII and control", input: "café\n☃𝄞", want: `caf\u00E9\u000A\u2603\U0001D11E`},
		{name: "NUL and invalid UTF-8", input: "a\x00b\xff", want: `a\uFFFDb\uFFFD`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(appendDenySQL(nil, tt.input)); got != pre+tt.want+post {
				t.Errorf("got  %s\nwant %s", got, pre+tt.want+post)
			}
		})
	}
}

func lateBytes(t *testing.T, msgs []msg) []byte {
	if len(msgs) == 0 {
		return nil
	}
	return enc(t, msgs...)
}

func concat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
