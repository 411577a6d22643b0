package postgres

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// step is one chunk of a session, for a Pair.
type step struct {
	dir Direction
	b   []byte
}

func TestPair(t *testing.T) {
	sm := startup(v30, userShop)
	tests := []struct {
		name      string
		steps     []step
		want      []string
		wantErr   error
		encrypted bool
	}{
		{"ssl refused then clear text", []step{{Frontend, startup(SSLRequestCode, "")}, {Backend, []byte("N")}, {Frontend, sm}},
			[]string{"fe SSLRequest len=8", "be EncryptionAnswer len=0 answer=N", `fe StartupMessage len=34 database="shop" user="alice"`}, nil, false},
		{"ssl accepted", []step{{Frontend, startup(SSLRequestCode, "")}, {Backend, []byte("S\x16\x03")}, {Frontend, []byte("\x00\x00\x00\x08anything")}},
			[]string{"fe SSLRequest len=8", "be EncryptionAnswer len=0 answer=S"}, nil, true},
		{"gss accepted", []step{{Frontend, startup(GSSENCRequestCode, "")}, {Backend, []byte("G")}, {Frontend, []byte("\x00\x00\x00\x20token")}},
			[]string{"fe GSSENCRequest len=8", "be EncryptionAnswer len=0 answer=G"}, nil, true},
		{"gss answered S is invalid", []step{{Frontend, startup(GSSENCRequestCode, "")}, {Backend, []byte("S")}},
			[]string{"fe GSSENCRequest len=8"}, ErrEncryptionAnswer, false},
		{"ssl refused with error", []step{{Frontend, startup(SSLRequestCode, "")},
			{Backend, enc(t, &pgproto3.ErrorResponse{Severity: "FATAL", Code: "08P01", Message: "no"})}},
			[]string{"fe SSLRequest len=8", `be ErrorResponse len=23 FATAL 08P01 "no"`}, nil, false},
		{"p resolved by auth", []step{{Frontend, sm}, {Backend, enc(t, &pgproto3.AuthenticationMD5Password{Salt: [4]byte{1, 2, 3, 4}})},
			{Frontend, enc(t, &pgproto3.PasswordMessage{Password: "md5abc"})},
			{Backend, enc(t, &pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256"}})},
			{Frontend, enc(t, &pgproto3.SASLInitialResponse{AuthMechanism: "SCRAM-SHA-256", Data: []byte("n,,n=,r=x")})},
			{Backend, enc(t, &pgproto3.AuthenticationSASLContinue{Data: []byte("r=xy")})},
			{Frontend, enc(t, &pgproto3.SASLResponse{Data: []byte("c=biws")})},
			{Backend, enc(t, &pgproto3.AuthenticationGSS{})},
			{Frontend, enc(t, &pgproto3.GSSResponse{Data: []byte("tok")})}},
			[]string{`fe StartupMessage len=34 database="shop" user="alice"`, "be AuthenticationMD5Password len=12", "fe PasswordMessage len=11",
				`be AuthenticationSASL len=23 mechanisms=["SCRAM-SHA-256"]`, `fe SASLInitialResponse len=31 mechanism="SCRAM-SHA-256"`,
				"be AuthenticationSASLContinue len=12", "fe SASLResponse len=10", "be AuthenticationGSS len=8", "fe GSSResponse len=7"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPair(Config{})
			var got []string
			var err error
			for _, s := range tt.steps {
				d, prefix := p.Frontend, "fe "
				if s.dir == Backend {
					d, prefix = p.Backend, "be "
				}
				if err = d.Feed(s.b, func(m *Message) error { got = append(got, prefix+describe(m)); return nil }); err != nil {
					break
				}
			}
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if enc := p.Frontend.Encrypted() && p.Backend.Encrypted(); enc != tt.encrypted {
				t.Errorf("encrypted = %v, want %v", enc, tt.encrypted)
			}
		})
	}
}

// TestStickyAndEmitError checks that a FrameError repeats and that an emit
// error stops Feed after the emitted message.
func TestStickyAndEmitError(t *testing.T) {
	d := NewDecoder(Backend, Config{})
	first := d.Feed(raw('!', 4, ""), func(*Message) error { return nil })
	var fe *FrameError
	if !errors.As(first, &fe) || fe.Type != '!' || fe.Offset != 0 {
		t.Fatalf("err = %#v", first)
	}
	if again := d.Feed([]byte("x"), func(*Message) error { return nil }); again != first {
		t.Errorf("second Feed = %v, want the same error", again)
	}
	stop := errors.New("stop")
	d = NewDecoder(Backend, Config{})
	in := enc(t, &pgproto3.ParseComplete{}, &pgproto3.BindComplete{})
	n := 0
	if err := d.Feed(in, func(*Message) error { n++; return stop }); err != stop || n != 1 {
		t.Fatalf("err = %v after %d messages", err, n)
	}
	if d.Offset() != 5 {
		t.Errorf("offset = %d, want 5", d.Offset())
	}
	if err := d.Feed(in[5:], func(m *Message) error { n++; return nil }); err != nil || n != 2 {
		t.Errorf("resume: err %v, %d messages", err, n)
	}
}

func TestReadStartup(t *testing.T) {
	sm := startup(v30, userShop)
	tests := []struct {
		name     string
		input    []byte
		wantKind Kind
		wantOut  string
		wantErr  error
	}{
		{"plain", sm, KindStartupMessage, "", nil},
		{"ssl then startup", append(startup(SSLRequestCode, ""), sm...), KindStartupMessage, "N", nil},
		{"gss, ssl, startup", append(append(startup(GSSENCRequestCode, ""), startup(SSLRequestCode, "")...), sm...), KindStartupMessage, "NN", nil},
		{"cancel", startup(CancelRequestCode, "\x00\x00\x00\x01\x00\x00\x00\x02"), KindCancelRequest, "", nil},
		{"too many requests", bytes.Repeat(startup(SSLRequestCode, ""), 3), 0, "NNN", ErrTooManyEncryptionRequests},
		{"bad length", []byte{0, 0, 0, 4}, 0, "", ErrStartupLength},
		{"short read", sm[:10], 0, "", io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bytes.NewReader(append(tt.input, "after"...))
			var w bytes.Buffer
			p, err := ReadStartup(r, &w)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if w.String() != tt.wantOut {
				t.Errorf("answered %q, want %q", w.String(), tt.wantOut)
			}
			if err != nil {
				return
			}
			if p.Kind != tt.wantKind {
				t.Errorf("kind = %v, want %v", p.Kind, tt.wantKind)
			}
			if rest, _ := io.ReadAll(r); string(rest) != "after" {
				t.Errorf("read beyond the packet: left %q", rest)
			}
			if !bytes.HasSuffix(tt.input, p.Raw) {
				t.Errorf("raw %q is not the last packet", p.Raw)
			}
			if p.Kind == KindStartupMessage && (p.Startup.Parameters["user"] != "alice" || p.Startup.Parameters["database"] != "shop") {
				t.Errorf("parameters = %v", p.Startup.Parameters)
			}
			if p.Kind == KindCancelRequest && (p.Cancel.ProcessID != 1 || !bytes.Equal(p.Cancel.SecretKey, []byte{0, 0, 0, 2})) {
				t.Errorf("cancel = %+v", p.Cancel)
			}
		})
	}
}

func TestEncode(t *testing.T) {
	if got := string(AppendEncryptionAnswer([]byte("x"), true)) + string(AppendEncryptionAnswer(nil, false)); got != "xSN" {
		t.Errorf("answers = %q", got)
	}
	b := AppendErrorReady(nil, "42501", "permission denied for table orders", 'T')
	d := NewDecoder(Backend, Config{})
	var got []string
	if err := d.Feed(b, func(m *Message) error { got = append(got, describe(m)); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []string{`ErrorResponse len=62 ERROR 42501 "permission denied for table orders"`, "ReadyForQuery len=5 tx=T"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
	var e pgproto3.ErrorResponse
	if err := e.Decode(b[5 : len(b)-6]); err != nil || e.Severity != "ERROR" || e.SeverityUnlocalized != "ERROR" {
		t.Errorf("decoded %+v, %v", e, err)
	}
}
