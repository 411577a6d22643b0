package mysql

import (
	"encoding/binary"
	"fmt"
	"strings"

	gm "github.com/go-mysql-org/go-mysql/mysql"
)

// Builders of protocol payloads for synthesized sessions.

// pkt frames payload as one or more packets starting at seq.
func pkt(seq uint8, payload []byte) []byte {
	var out []byte
	for {
		n := min(len(payload), gm.MaxPayloadLen)
		out = appendHeader(out, n, seq)
		out = append(out, payload[:n]...)
		payload = payload[n:]
		seq++
		if n < gm.MaxPayloadLen {
			return out
		}
	}
}

const (
	// baseCaps is what a modern client and server both offer.
	baseCaps = gm.CLIENT_PROTOCOL_41 | gm.CLIENT_SECURE_CONNECTION | gm.CLIENT_PLUGIN_AUTH |
		gm.CLIENT_CONNECT_WITH_DB | gm.CLIENT_TRANSACTIONS | gm.CLIENT_LONG_PASSWORD
)

func greetingPayload(caps uint32, plugin string) []byte {
	b := []byte{10}
	b = append(b, "8.0.36\x00"...)
	b = binary.LittleEndian.AppendUint32(b, 42)
	b = append(b, "abcdefgh"...)
	b = append(b, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(caps))
	b = append(b, 0xff, 2, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(caps>>16))
	b = append(b, 21)
	b = append(b, make([]byte, 10)...)
	b = append(b, "ijklmnopqrst\x00"...)
	return append(b, plugin+"\x00"...)
}

func sslRequestPayload(caps uint32) []byte {
	b := binary.LittleEndian.AppendUint32(nil, caps|gm.CLIENT_SSL)
	b = binary.LittleEndian.AppendUint32(b, 1<<24)
	b = append(b, 45)
	return append(b, make([]byte, 23)...)
}

func loginPayload(caps uint32, user, db, plugin string) []byte {
	b := sslRequestPayload(caps)
	binary.LittleEndian.PutUint32(b, caps) // without CLIENT_SSL
	b = append(b, user+"\x00"...)
	b = append(b, 20)
	b = append(b, make([]byte, 20)...)
	if caps&gm.CLIENT_CONNECT_WITH_DB != 0 {
		b = append(b, db+"\x00"...)
	}
	return append(b, plugin+"\x00"...)
}

func okPayload(affected uint64, status uint16) []byte {
	return AppendOK(nil, 0, affected, 0, status, 0)[headerLen:]
}

func eofPayload(status uint16) []byte {
	return []byte{0xfe, 0, 0, byte(status), byte(status >> 8)}
}

func errPayload(code uint16, msg string) []byte {
	return AppendErr(nil, 0, code, "42000", msg)[headerLen:]
}

func colDefPayload(name string) []byte {
	var b []byte
	for _, s := range []string{"def", "shop", "t", "t", name, name} {
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	return append(b, 0x0c, 0x21, 0, 0, 1, 0, 0, 0xfd, 0, 0, 0, 0, 0)
}

func cmdPayload(cmd byte, body string) []byte { return append([]byte{cmd}, body...) }

// stmtPayload is a COM_STMT_* command with a statement id.
func stmtPayload(cmd byte, id uint32, rest ...byte) []byte {
	return append(binary.LittleEndian.AppendUint32([]byte{cmd}, id), rest...)
}

// step is one chunk of a synthesized session.
type step struct {
	dir  Direction
	data []byte
}

func c(seq uint8, payload []byte) step  { return step{ClientToServer, pkt(seq, payload)} }
func sv(seq uint8, payload []byte) step { return step{ServerToClient, pkt(seq, payload)} }

// handshake is a plain login with caps on both sides.
func handshake(caps uint32) []step {
	return []step{
		sv(0, greetingPayload(caps, gm.AUTH_NATIVE_PASSWORD)),
		c(1, loginPayload(caps, "app", "shop", gm.AUTH_NATIVE_PASSWORD)),
		sv(2, okPayload(0, gm.SERVER_STATUS_AUTOCOMMIT)),
	}
}

// short renders an event compactly for table tests.
func short(ev *Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%d", ev.Kind, ev.Seq)
	switch ev.Kind {
	case EventGreeting:
		fmt.Fprintf(&b, " %s %s", ev.ServerVersion, ev.AuthPlugin)
	case EventLogin:
		fmt.Fprintf(&b, " %s@%s %s", ev.User, ev.DB, ev.AuthPlugin)
	case EventAuthSwitch:
		fmt.Fprintf(&b, " %s", ev.AuthPlugin)
	case EventAuthMoreData:
		fmt.Fprintf(&b, " %d", ev.AuthStatus)
	case EventCommand:
		fmt.Fprintf(&b, " %s", CommandName(ev.Command))
		if ev.SQL != nil || ev.Truncated {
			fmt.Fprintf(&b, " %q", ev.SQL)
		}
		if ev.Truncated {
			b.WriteString(" truncated")
		}
		if ev.StmtID != 0 {
			fmt.Fprintf(&b, " stmt=%d", ev.StmtID)
		}
		if len(ev.User) > 0 || len(ev.DB) > 0 {
			fmt.Fprintf(&b, " %s@%s", ev.User, ev.DB)
		}
	case EventOK:
		fmt.Fprintf(&b, " %s affected=%d", CommandName(ev.Command), ev.AffectedRows)
	case EventErr, EventLoginFailed:
		fmt.Fprintf(&b, " %d %s %s", ev.ErrCode, ev.SQLState, ev.ErrMsg)
	case EventResultSet:
		fmt.Fprintf(&b, " %s %dx%d", CommandName(ev.Command), ev.Rows, ev.Columns)
	case EventPrepareOK:
		fmt.Fprintf(&b, " stmt=%d params=%d cols=%d", ev.StmtID, ev.Params, ev.Columns)
	case EventLocalInfile:
		fmt.Fprintf(&b, " %s", ev.SQL)
	case EventDecodeError, EventProtocolError:
		fmt.Fprintf(&b, " %v", ev.Err)
	case EventStopped:
		fmt.Fprintf(&b, " %s", ev.Reason)
	}
	return b.String()
}

// run feeds steps to a new Session and returns the short events.
func run(cfg Config, steps []step) ([]string, *Session) {
	var out []string
	s := NewSession(cfg, func(ev *Event) { out = append(out, short(ev)) })
	for _, st := range steps {
		s.Feed(st.dir, st.data)
	}
	return out, s
}

func cat(parts ...[]step) []step {
	var out []step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
