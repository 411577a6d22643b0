package mysql

import (
	"bytes"
	"testing"

	gm "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/stats"
)

// FuzzGreetingSSL: reading and setting a greeting's CLIENT_SSL never
// panics, changes at most the one flag byte, and what it sets reads back.
func FuzzGreetingSSL(f *testing.F) {
	f.Add(greeting())
	f.Add(packet(0, []byte{10, 0}))
	f.Add(packet(0, []byte{0xff, 0x10, 0x04}))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		at := greetingCapsAt(pkt)
		got := bytes.Clone(pkt)
		offerSSL(got)
		if at < 0 {
			if !bytes.Equal(got, pkt) || greetingOffersSSL(got) {
				t.Fatalf("not a greeting, yet changed or offering SSL: %x", got)
			}
			return
		}
		if !greetingOffersSSL(got) {
			t.Fatalf("offerSSL did not set CLIENT_SSL: %x", got)
		}
		got[at+1] = pkt[at+1]
		if !bytes.Equal(got, pkt) {
			t.Fatalf("offerSSL changed more than the flags byte at %d", at+1)
		}
	})
}

// FuzzUpstreamFirstPacket: whatever the client's first packet and however
// it is cut, the server leg gets either that packet as is (the client's own
// SSLRequest) or an SSLRequest with sequence id 1, CLIENT_SSL and the
// packet's own fixed fields, and the reader is released once it is whole.
func FuzzUpstreamFirstPacket(f *testing.F) {
	f.Add(login(), 7)
	f.Add(packet(1, append([]byte{0x05, 0xa8 | 0x08, 0, 0}, make([]byte, 28)...)), 36)
	f.Add(packet(2, []byte{1, 2, 3}), 1)
	f.Fuzz(func(t *testing.T, data []byte, chunk int) {
		if chunk < 1 || len(data) > 1<<16 {
			return
		}
		flt, err := New(&Config{StatPrefix: "t", MaxSQLBytes: 64, UpstreamSSL: UpstreamSSLRequire},
			&filters.Env{Stats: stats.New().Root()})
		if err != nil {
			t.Fatal(err)
		}
		server := &fakeConn{} // reads EOF: any TLS handshake fails at once
		u := newUpstreamConn(newConn(flt, &filters.Session{}, &fakeConn{}), server, nil)
		for rest := data; len(rest) > 0; {
			n := min(chunk, len(rest))
			if _, err := u.Write(rest[:n]); err != nil {
				break
			}
			rest = rest[n:]
		}
		whole := len(data) >= 4 && len(data) >= 4+plen(data)
		select {
		case <-u.ready:
			if !whole {
				t.Fatal("settled before the first packet was whole")
			}
		default:
			if whole {
				t.Fatal("first packet whole, reader not released")
			}
			return
		}
		sent := server.sent.Bytes()
		if u.err == nil && u.rd == u.Conn { // passed through
			if !bytes.Equal(sent, data) {
				t.Fatalf("passthrough sent %x, want %x", sent, data)
			}
			return
		}
		if len(sent) == 0 {
			return // refused before anything was sent
		}
		if len(sent) < 4+sslRequestLen || sent[0] != sslRequestLen || sent[3] != 1 ||
			sent[5]&byte(gm.CLIENT_SSL>>8) == 0 || !bytes.Equal(sent[8:4+sslRequestLen], data[8:4+sslRequestLen]) {
			t.Fatalf("bad SSLRequest %x for %x", sent, data)
		}
	})
}
