package redis

import (
	"io"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/codec/redis"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// FuzzClient feeds arbitrary bytes to a proxy client in front of a real
// redis-server, half-closes, and checks that the proxy ends the connection
// and that everything it wrote is a sequence of complete RESP replies. The
// server is the fuzzer's own, with the commands that would stop, block or
// reconfigure it for the inputs after (SHUTDOWN, DEBUG, CONFIG, CLIENT,
// REPLICAOF, ACL, scripts, MONITOR...) renamed away, so they reach it as
// unknown commands and get its error. Inputs alternate between a proxy
// whose plain TCP clients an event loop serves and one without loops.
func FuzzClient(f *testing.F) {
	f.Add([]byte("*2\r\n$3\r\nGET\r\n$1\r\na\r\n"))
	f.Add([]byte("PING\r\nMULTI\r\nSET a 1\r\nEXEC\r\n"))
	f.Add([]byte("*3\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nb\r\n"))
	f.Add([]byte("*2\r\n$x\r\n"))
	f.Add([]byte("HELLO 3\r\nAUTH x\r\nSELECT 1\r\nEVAL s 0\r\n"))
	var args []string
	for _, cmd := range []string{"SHUTDOWN", "DEBUG", "CONFIG", "CLIENT", "REPLICAOF", "SLAVEOF", "ACL", "MODULE",
		"FAILOVER", "MIGRATE", "MONITOR", "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "SCRIPT", "FUNCTION",
		"FCALL", "FCALL_RO", "SYNC", "PSYNC", "SAVE", "BGSAVE", "BGREWRITEAOF", "CLUSTER", "LATENCY"} {
		args = append(args, "--rename-command", cmd, "")
	}
	srv := testenv.Redis(f, testenv.RedisArgs(args...))
	mut := func(c *Config) { c.Settings.OpTimeout = config.Duration(2 * time.Second) }
	onLoop, _ := newTestProxy(f, srv.Addr(), mut)
	onGoroutine, _ := newGoroutineProxy(f, srv.Addr(), mut)
	n := 0
	f.Fuzz(func(t *testing.T, in []byte) {
		p := onLoop // clients served by an event loop, and every other one by goroutines only
		if n++; n%2 == 0 {
			p = onGoroutine
		}
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
