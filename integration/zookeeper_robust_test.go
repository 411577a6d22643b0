package integration

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
	"github.com/sluice-proxy/sluice/proxy"
)

// TestZooKeeperReconnect: the client's connection is cut under it; go-zookeeper
// reconnects through the proxy with the same session, re-sets its watch
// (setWatches), and the watch then fires.
func TestZooKeeperReconnect(t *testing.T) {
	srv := testenv.ZooKeeper(t)
	modes(t, func(t *testing.T, opt proxy.Option) *sluicetest.Sluice {
		s := sluicetest.StartWith(t, zkYAML(srv.Addr(), "", ""), opt)
		node := fmt.Sprintf("/reconnect-%d", time.Now().UnixNano())
		direct := connect(t, srv.Addr(), nil)
		d := &dialer{}
		c, ev := connectEv(t, s.Addr("zk"), d)
		must(c.Create(node, nil, zk.FlagEphemeral, acl))
		_, _, watch, err := c.ExistsW(node)
		if err != nil {
			t.Fatal(err)
		}
		sid := c.SessionID()
		d.cut()
		waitState(t, ev, zk.StateDisconnected)
		waitState(t, ev, zk.StateHasSession)
		if c.SessionID() != sid {
			t.Fatalf("session %x after reconnect, want %x", c.SessionID(), sid)
		}
		s.WaitCounter("zk.zookeeper.setwatches_resp", 1, 20*time.Second)
		must(direct.Set(node, []byte("x"), -1))
		select {
		case e := <-watch:
			if e.Type != zk.EventNodeDataChanged {
				t.Fatalf("event %+v", e)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the watch did not fire after the reconnect")
		}
		// The ephemeral node lived on with the session.
		if ok, _ := must2(direct.Exists(node)); !ok {
			t.Fatal("the ephemeral node went with the connection")
		}
		s.WaitCounter("zk.zookeeper.watch_event", 1, 20*time.Second)
		for name, want := range map[string]uint64{
			"connect_rq": 2, "connect_resp": 2, "setwatches_rq": 1, "setwatches_resp": 1,
			"create_rq": 1, "exists_rq": 1, "exists_resp": 1, "watch_event": 1, "decoder_error": 0,
		} {
			if got := s.Counter("zk.zookeeper." + name); got != want {
				t.Errorf("%s = %d, want %d", name, got, want)
			}
		}
		return s
	})
}

// jute frame helpers for hand-made input.
func be32(b []byte, v int32) []byte { return binary.BigEndian.AppendUint32(b, uint32(v)) }

func withLen(body []byte) []byte { return append(be32(nil, int32(len(body))), body...) }

// connectFrame is a valid ConnectRequest (new session, 30s).
func connectFrame() []byte {
	b := be32(nil, 0)
	b = binary.BigEndian.AppendUint64(b, 0)
	b = be32(b, 30000)
	b = binary.BigEndian.AppendUint64(b, 0)
	b = be32(b, 16)
	b = append(b, make([]byte, 16)...)
	return withLen(append(b, 0))
}

// TestZooKeeperBadFrames: an oversized frame, a field running past its frame and a
// frame cut by the client's close each end that connection only and count
// decoder_error; a session on the same listener carries on.
func TestZooKeeperBadFrames(t *testing.T) {
	srv := testenv.ZooKeeper(t)
	modes(t, func(t *testing.T, opt proxy.Option) *sluicetest.Sluice {
		s := sluicetest.StartWith(t, zkYAML(srv.Addr(), ", max_packet_bytes: 4096, enable_per_opcode_decoder_error_metrics: true", ""), opt)
		good := connect(t, s.Addr("zk"), nil)
		getData := func(pathLen int32, path string) []byte {
			b := be32(be32(nil, 1), 4)
			return withLen(append(append(be32(b, pathLen), path...), 0))
		}
		for i, tc := range []struct {
			name string
			in   []byte
			cut  bool // the client closes right after sending
		}{
			{"oversized", append(connectFrame(), be32(nil, 5000)...), false},
			{"field past frame", append(connectFrame(), getData(500, "/x")...), false},
			{"cut by close", append(connectFrame(), getData(2, "/x")[:9]...), true},
		} {
			c, err := net.Dial("tcp", s.Addr("zk"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Write(tc.in); err != nil {
				t.Fatal(err)
			}
			if tc.cut {
				c.Close()
			} else {
				c.SetReadDeadline(time.Now().Add(20 * time.Second))
				io.Copy(io.Discard, c) // the connect response, then the close
				if zkSilent(c) {
					t.Fatalf("%s: the connection stayed open", tc.name)
				}
				c.Close()
			}
			s.WaitCounter("zk.zookeeper.decoder_error", uint64(i+1), 20*time.Second)
		}
		if got := s.Counter("zk.zookeeper.getdata_decoder_error"); got != 1 {
			t.Errorf("getdata_decoder_error = %d, want 1", got)
		}
		if _, _, err := good.Exists("/"); err != nil {
			t.Fatalf("the other session: %v", err)
		}
		return s
	})
}

// isTimeout reports whether a read on c now would time out (it is still
// open and silent).
func zkSilent(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestZooKeeperFourLetterWords: admin commands on the client port (as
// health checks send them) pass through the proxy undecoded.
func TestZooKeeperFourLetterWords(t *testing.T) {
	srv := testenv.ZooKeeper(t)
	modes(t, func(t *testing.T, opt proxy.Option) *sluicetest.Sluice {
		s := sluicetest.StartWith(t, zkYAML(srv.Addr(), "", ""), opt)
		for cmd, want := range map[string]string{"ruok": "imok", "srvr": "Mode: standalone"} {
			c, err := net.Dial("tcp", s.Addr("zk"))
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(20 * time.Second))
			if _, err := c.Write([]byte(cmd)); err != nil {
				t.Fatal(err)
			}
			out, err := io.ReadAll(c)
			c.Close()
			if err != nil || !strings.Contains(string(out), want) {
				t.Fatalf("%s: %q, %v", cmd, out, err)
			}
		}
		s.WaitCounter("zk.zookeeper.four_letter_words", 2, 20*time.Second)
		if n := s.Counter("zk.zookeeper.decoder_error"); n != 0 {
			t.Errorf("decoder_error = %d", n)
		}
		return s
	})
}
