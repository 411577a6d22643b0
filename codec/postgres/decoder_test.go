package postgres

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// enc encodes pgproto3 messages back to back.
func enc(t testing.TB, msgs ...pgproto3.Message) []byte {
	t.Helper()
	var b []byte
	for _, m := range msgs {
		var err error
		if b, err = m.Encode(b); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// raw builds a typed message from a type byte, a length field and a body.
func raw(typ byte, length uint32, body string) []byte {
	b := []byte{typ}
	b = binary.BigEndian.AppendUint32(b, length)
	return append(b, body...)
}

// startup builds a startup packet from a code and its payload.
func startup(code uint32, payload string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(payload)))
	b = binary.BigEndian.AppendUint32(b, code)
	return append(b, payload...)
}

const v30 = 3 << 16

var userShop = "user\x00alice\x00database\x00shop\x00\x00"

// run feeds input to d in one piece and byte by byte, checks that both give
// the same messages and error, and returns the rendered messages.
func run(t *testing.T, mk func() *Decoder, input []byte) ([]string, error) {
	t.Helper()
	feed := func(chunk int) ([]string, error) {
		d := mk()
		var got []string
		emit := func(m *Message) error { got = append(got, describe(m)); return nil }
		for _, p := range chunked(input, chunk) {
			if err := d.Feed(p, emit); err != nil {
				return got, err
			}
		}
		return got, nil
	}
	got, err := feed(0)
	got1, err1 := feed(1)
	if strings.Join(got, "\n") != strings.Join(got1, "\n") || (err == nil) != (err1 == nil) {
		t.Errorf("byte-by-byte differs:\n%q %v\n%q %v", got1, err1, got, err)
	}
	return got, err
}

func TestFrontend(t *testing.T) {
	small := Config{MaxSQL: 8, MaxBody: 32}
	long := strings.Repeat("x", 300)
	tests := []struct {
		name    string
		cfg     Config
		input   []byte
		want    []string
		wantErr error
	}{
		{"startup and query", Config{}, append(startup(v30, userShop), enc(t, &pgproto3.Query{String: "select 1"})...),
			[]string{`StartupMessage len=34 database="shop" user="alice"`, `Query len=13 sql="select 1"`}, nil},
		{"protocol 3.2 accepted", Config{}, startup(v30|2, userShop), []string{`StartupMessage len=34 database="shop" user="alice"`}, nil},
		{"query at MaxSQL", small, append(startup(v30, userShop), enc(t, &pgproto3.Query{String: "12345678"})...),
			[]string{`StartupMessage len=34 database="shop" user="alice"`, `Query len=13 sql="12345678"`}, nil},
		{"query over MaxSQL", small, append(startup(v30, userShop), enc(t, &pgproto3.Query{String: "123456789"})...),
			[]string{`StartupMessage len=34 database="shop" user="alice"`, `Query len=14 sql="12345678" truncated`}, nil},
		{"query without NUL", Config{}, append(startup(v30, userShop), raw('Q', 7, "abc")...),
			[]string{`StartupMessage len=34 database="shop" user="alice"`, `Query len=7 sql="" err="postgres: decoding Query body: string not NUL-terminated"`}, nil},
		{"small parse", small, append(startup(v30, userShop), enc(t, &pgproto3.Parse{Name: "s1", Query: "select $1::int"})...),
			[]string{`StartupMessage len=34 database="shop" user="alice"`, `Parse len=24 sql="select $" name="s1" truncated`}, nil},
		{"large parse", small, append(startup(v30, userShop), enc(t, &pgproto3.Parse{Name: "s1", Query: "select " + long})...),
			[]string{`StartupMessage len=34 database="shop" user="alice"`, `Parse len=317 sql="select x" name="s1" truncated`}, nil},
		{"large parse long name", small, append(startup(v30, userShop), enc(t, &pgproto3.Parse{Name: long, Query: "q"})...),
			[]string{`StartupMessage len=34 database="shop" user="alice"`, `Parse len=309 sql="q" name="` + long[:256] + `" truncated`}, nil},
		{"large bind skipped", small, append(startup(v30, userShop), enc(t, &pgproto3.Bind{Parameters: [][]byte{[]byte(long)}})...),
			[]string{`StartupMessage len=34 database="shop" user="alice"`, `Bind len=316`}, nil},
		{"small bind not decoded", Config{}, append(startup(v30, userShop), enc(t, &pgproto3.Bind{PreparedStatement: "s1", Parameters: [][]byte{[]byte("7")}})...),
			[]string{`StartupMessage len=34 database="shop" user="alice"`, `Bind len=19`}, nil},
		{"lone decoder p", Config{}, append(startup(v30, userShop), enc(t, &pgproto3.PasswordMessage{Password: "pw"})...),
			[]string{`StartupMessage len=34 database="shop" user="alice"`, `AuthResponse len=7`}, nil},
		{"ssl request then tls", Config{}, append(startup(SSLRequestCode, ""), 0x16, 3, 1, 0, 0),
			[]string{`SSLRequest len=8`, `TLS len=0`}, nil},
		{"direct tls", Config{}, []byte{0x16, 3, 1, 2, 0}, []string{`TLS len=0`}, nil},
		{"cancel", Config{}, startup(CancelRequestCode, "\x00\x00\x00\x07\x00\x00\x00\x09"), []string{`CancelRequest len=16`}, nil},
		{"data after cancel", Config{}, append(startup(CancelRequestCode, "\x00\x00\x00\x07\x00\x00\x00\x09"), 'Q'),
			[]string{`CancelRequest len=16`}, ErrTrailingData},
		{"startup too short", Config{}, []byte{0, 0, 0, 7, 0, 3, 0, 0}, nil, ErrStartupLength},
		{"startup too long", Config{}, []byte{0, 0, 0x27, 0x15}, nil, ErrStartupLength},
		{"startup longest", Config{}, startup(v30, "user\x00u\x00x\x00"+strings.Repeat("y", 10000-4-11)+"\x00\x00"), []string{
			`StartupMessage len=10004 user="u" x="` + strings.Repeat("y", 10000-4-11) + `"`}, nil},
		{"protocol 2", Config{}, startup(2<<16, userShop), nil, ErrStartupProtocol},
		{"no user", Config{}, startup(v30, "database\x00shop\x00\x00"), nil, ErrStartupLayout},
		{"no terminator", Config{}, startup(v30, "user\x00alice\x00"+"x"), nil, ErrStartupLayout},
		{"ssl request with payload", Config{}, startup(SSLRequestCode, "abcd"), nil, ErrStartupLength},
		{"length below 4", Config{}, append(startup(v30, userShop), raw('Q', 3, "")...),
			[]string{`StartupMessage len=34 database="shop" user="alice"`}, ErrLengthTooShort},
		{"length above limit", Config{MaxMessageLen: 100}, append(startup(v30, userShop), raw('Q', 101, "")...),
			[]string{`StartupMessage len=34 database="shop" user="alice"`}, ErrLengthTooLong},
		{"unknown type", Config{}, append(startup(v30, userShop), raw('z', 4, "")...),
			[]string{`StartupMessage len=34 database="shop" user="alice"`}, ErrUnknownType},
		{"unknown type allowed", Config{AllowUnknown: true}, append(startup(v30, userShop), raw('z', 6, "ab")...),
			[]string{`StartupMessage len=34 database="shop" user="alice"`, `Unknown len=6`}, nil},
		{"sync with body", Config{}, append(startup(v30, userShop), raw('S', 5, "x")...),
			[]string{`StartupMessage len=34 database="shop" user="alice"`, `Sync len=5 err="postgres: decoding Sync body: Sync body must have length of 0, but it is 1"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := run(t, func() *Decoder { return NewDecoder(Frontend, tt.cfg) }, tt.input)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestBackend(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		input   []byte
		want    []string
		wantErr error
	}{
		{"error prefers V", Config{}, enc(t, &pgproto3.ErrorResponse{Severity: "FEHLER", SeverityUnlocalized: "ERROR", Code: "42P01", Message: "nope"}),
			[]string{`ErrorResponse len=33 ERROR 42P01 "nope"`}, nil},
		{"error with S only", Config{}, enc(t, &pgproto3.ErrorResponse{Severity: "FATAL", Code: "28P01", Message: "auth"}),
			[]string{`ErrorResponse len=25 FATAL 28P01 "auth"`}, nil},
		{"notice", Config{}, enc(t, &pgproto3.NoticeResponse{Severity: "WARNING", SeverityUnlocalized: "WARNING", Code: "01000", Message: "careful"}),
			[]string{`NoticeResponse len=39 WARNING 01000 "careful"`}, nil},
		{"ready and tag", Config{}, enc(t, &pgproto3.CommandComplete{CommandTag: []byte("INSERT 0 1")}, &pgproto3.ReadyForQuery{TxStatus: 'T'}),
			[]string{`CommandComplete len=15 tag="INSERT 0 1"`, `ReadyForQuery len=5 tx=T`}, nil},
		{"negotiate", Config{}, enc(t, &pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: []string{"_pq_.x"}}),
			[]string{`NegotiateProtocolVersion len=19`}, nil},
		{"negotiate bad count", Config{}, raw('v', 12, "\x00\x00\x00\x00\x00\x00\x00\x05"),
			[]string{`NegotiateProtocolVersion len=12 err="postgres: decoding NegotiateProtocolVersion body: NegotiateProtocolVersion body is invalid "`}, nil},
		{"auth sspi", Config{}, raw('R', 8, "\x00\x00\x00\x09"), []string{`AuthenticationSSPI len=8`}, nil},
		{"auth unknown code", Config{}, raw('R', 8, "\x00\x00\x00\x63"), []string{`Authentication len=8`}, nil},
		{"data row never decoded", Config{}, enc(t, &pgproto3.DataRow{Values: [][]byte{[]byte("a")}}), []string{`DataRow len=11`}, nil},
		{"big data row skipped", Config{MaxBody: 16}, enc(t, &pgproto3.DataRow{Values: [][]byte{bytes.Repeat([]byte("a"), 1000)}}), []string{`DataRow len=1010`}, nil},
		{"big error truncated", Config{MaxBody: 16}, enc(t, &pgproto3.ErrorResponse{Severity: "ERROR", Message: strings.Repeat("m", 100)}),
			[]string{`ErrorResponse len=114 truncated`}, nil},
		{"frontend-only type", Config{}, raw('Q', 4, ""), nil, ErrUnknownType},
		{"lone backend frames S as ParameterStatus", Config{}, []byte{'S', 0, 0, 0, 4},
			[]string{`ParameterStatus len=4 err="postgres: decoding ParameterStatus body: EOF"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := run(t, func() *Decoder { return NewDecoder(Backend, tt.cfg) }, tt.input)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
