package postgres

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// TestShortBodiesRegression is the hardening issue's crash: after a normal
// startup packet, FunctionCall ('F'), CopyFail ('f') and, from the server,
// CommandComplete ('C') with an empty body made the library decoder index out
// of range, which killed the process. Each must come back as a BodyError.
func TestShortBodiesRegression(t *testing.T) {
	start := enc(t, &pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": "u"}})
	tests := []struct {
		name string
		dir  Direction
		in   []byte
	}{
		{"FunctionCall", Frontend, append(start[:len(start):len(start)], "F\x00\x00\x00\x04"...)},
		{"CopyFail", Frontend, append(start[:len(start):len(start)], "f\x00\x00\x00\x04"...)},
		{"CommandComplete", Backend, []byte("C\x00\x00\x00\x04")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var bodyErr *BodyError
			err := NewDecoder(tt.dir, Config{}).Feed(tt.in, func(m *Message) error {
				if m.Err != nil && !errors.As(m.Err, &bodyErr) {
					t.Errorf("message error %v is not a BodyError", m.Err)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("Feed: %v", err)
			}
			if bodyErr == nil {
				t.Fatalf("no BodyError for an empty %s body", tt.name)
			}
		})
	}
}

// TestEveryTypeShortBodies feeds every type byte with every body of up to 9
// bytes of 0x00 or 0xff, in both directions and after each authentication
// request (which changes how a frontend 'p' decodes): a decoder never
// panics, whatever the library it delegates bodies to does with them.
func TestEveryTypeShortBodies(t *testing.T) {
	start := enc(t, &pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": "u"}})
	auths := []uint32{0, 3, 5, 7, 8, 10, 11, 12}
	for typ := 0; typ < 256; typ++ {
		for n := 0; n <= 9; n++ {
			for _, fill := range []byte{0x00, 0xff} {
				body := make([]byte, n)
				for i := range body {
					body[i] = fill
				}
				msg := raw(byte(typ), uint32(4+n), string(body))
				for _, auth := range auths {
					p := NewPair(Config{})
					authReq := raw('R', 8, string([]byte{byte(auth >> 24), byte(auth >> 16), byte(auth >> 8), byte(auth)}))
					ignore := func(*Message) error { return nil }
					_ = p.Frontend.Feed(start, ignore)
					_ = p.Backend.Feed(authReq, ignore)
					_ = p.Frontend.Feed(msg, ignore)
					_ = p.Backend.Feed(msg, ignore)
				}
			}
		}
	}
}
