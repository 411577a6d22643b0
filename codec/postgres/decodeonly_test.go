package postgres

import (
	"slices"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// TestDecodeOnly: with Config.DecodeOnly only the listed kinds get a Body;
// every message is still framed and reported, Query and Parse keep their
// SQL and Name, and the empty set decodes every kind as before.
func TestDecodeOnly(t *testing.T) {
	front := enc(t, &pgproto3.Parse{Name: "s1", Query: "SELECT 1"}, &pgproto3.Bind{PreparedStatement: "s1"},
		&pgproto3.Execute{Portal: "p"}, &pgproto3.Sync{}, &pgproto3.Query{String: "SELECT 2"})
	back := enc(t, &pgproto3.ParseComplete{}, &pgproto3.BindComplete{},
		&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")},
		&pgproto3.ErrorResponse{Severity: "ERROR", Code: "42P01", Message: "no"},
		&pgproto3.ReadyForQuery{TxStatus: 'I'})
	type seen struct {
		kind      Kind
		body      bool
		sql, name string
	}
	feed := func(t *testing.T, cfg Config, dir Direction, p []byte) []seen {
		t.Helper()
		d := NewDecoder(dir, cfg)
		d.st = stHeader // past the startup phase
		var got []seen
		for _, b := range chunked(p, 1) {
			if err := d.Feed(b, func(m *Message) error {
				got = append(got, seen{m.Kind, m.Body != nil, string(m.SQL), string(m.Name)})
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		return got
	}
	only := Config{DecodeOnly: Kinds(KindCommandComplete, KindErrorResponse)}
	wantFront := []seen{{KindParse, false, "SELECT 1", "s1"}, {KindBind, false, "", ""},
		{KindExecute, false, "", ""}, {KindSync, false, "", ""}, {KindQuery, false, "SELECT 2", ""}}
	if got := feed(t, only, Frontend, front); !slices.Equal(got, wantFront) {
		t.Errorf("frontend with DecodeOnly: %v, want %v", got, wantFront)
	}
	wantBack := []seen{{KindParseComplete, false, "", ""}, {KindBindComplete, false, "", ""},
		{KindCommandComplete, true, "", ""}, {KindErrorResponse, true, "", ""}, {KindReadyForQuery, false, "", ""}}
	if got := feed(t, only, Backend, back); !slices.Equal(got, wantBack) {
		t.Errorf("backend with DecodeOnly: %v, want %v", got, wantBack)
	}
	// The zero set decodes every kind pgproto3 has a type for (Bind's
	// parameters never are).
	for i, s := range feed(t, Config{}, Frontend, front) {
		if want := s.kind != KindBind && s.kind != KindQuery; s.body != want {
			t.Errorf("frontend message %d (%v): body decoded %v, want %v", i, s.kind, s.body, want)
		}
	}
	for i, s := range feed(t, Config{}, Backend, back) {
		if !s.body {
			t.Errorf("backend message %d (%v): body not decoded without DecodeOnly", i, s.kind)
		}
	}
}

// TestKindSet covers both words of the set.
func TestKindSet(t *testing.T) {
	s := Kinds(KindUnknown, KindNegotiateProtocolVersion, KindQuery)
	for k := Kind(0); k < numKinds; k++ {
		want := k == KindUnknown || k == KindNegotiateProtocolVersion || k == KindQuery
		if s.Has(k) != want {
			t.Errorf("Has(%v) = %v, want %v", k, s.Has(k), want)
		}
	}
}
