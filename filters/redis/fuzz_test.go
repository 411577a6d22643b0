package redis

import (
	"io"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/codec/redis"
)

// FuzzClient feeds arbitrary bytes to a proxy client (with a fake upstream)
// half-closes, and checks that the proxy ends the connection and that everything it
// wrote is a sequence of complete RESP replies.
func FuzzClient(f *testing.F) {
	f.Add([]byte("*2\r\n$3\r\nGET\r\n$1\r\na\r\n"))
	f.Add([]byte("PING\r\nMULTI\r\nSET a 1\r\nEXEC\r\n"))
	f.Add([]byte("*3\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nb\r\n"))
	f.Add([]byte("*2\r\n$x\r\n"))
	f.Add([]byte("HELLO 3\r\nAUTH x\r\nSELECT 1\r\nEVAL s 0\r\n"))
	fake := startFake(f)
	p, _ := newTestProxy(f, fake.addr(), nil)
	f.Fuzz(func(t *testing.T, in []byte) {
		cli, _ := serveClient(t, p)
		cli.SetDeadline(time.Now().Add(5 * time.Second))
		go func() {
			cli.Write(in)
			cli.CloseWrite()
		}()
		out, err := io.ReadAll(cli)
		if err != nil {
			t.Fatalf("proxy did not end the connection: %v", err)
		}
		for len(out) > 0 {
			n, err := redis.FrameReply(out)
			if err != nil || n == 0 {
				t.Fatalf("incomplete or bad reply in %q: %v", out, err)
			}
			out = out[n:]
		}
	})
}
