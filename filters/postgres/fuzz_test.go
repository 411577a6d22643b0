package postgres

import (
	"bytes"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// FuzzConn feeds arbitrary bytes after a valid startup message as the
// client stream and as the server stream. Without a gate the filter must be
// transparent (what it forwards is a prefix of what it got); with one, no
// more than the hold limit is kept; never a panic, never more memory than
// the codec's bound.
func FuzzConn(f *testing.F) {
	f.Add([]byte("Q\x00\x00\x00\rSELECT 1\x00"), false)
	f.Add([]byte("Q\x00\x00\x00\x17SELECT * FROM secret\x00Q\x00\x00\x00\rSELECT 1\x00"), true)
	f.Add([]byte("P\x00\x00\x00\x1f\x00SELECT * FROM secret\x00\x00\x00S\x00\x00\x00\x04"), true)
	f.Add([]byte("Z\x00\x00\x00\x05IC\x00\x00\x00\rSELECT 1\x00E\x00\x00\x00\x04"), false)
	f.Fuzz(func(t *testing.T, data []byte, gated bool) {
		fl, _ := newTestFilter(t, nil)
		s := newSession()
		if gated {
			s.AddSQLGate(denyGate{})
		}
		var st bytes.Buffer
		b, _ := (&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
			Parameters: map[string]string{"user": "u"}}).Encode(nil)
		st.Write(b)
		client := append(st.Bytes(), data...)
		toServer, toClient, _ := session(t, fl, s, client, data, nil)
		if !gated && !bytes.HasPrefix(client, toServer) {
			t.Fatalf("forwarded bytes are not a prefix of the client's")
		}
		if !gated && !bytes.HasPrefix(data, toClient) {
			t.Fatalf("bytes to the client are not a prefix of the server's")
		}
	})
}
