package redis

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/codec/redis"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/proxy/ioloop"
	"github.com/sluice-proxy/sluice/stats"
)

// fakeRedis is a loopback RESP server: SET stores, GET reads, PING pongs,
// anything else gets an error. It parses with codec/redis.
type fakeRedis struct {
	ln   net.Listener
	mu   sync.Mutex
	data map[string]string
	wg   sync.WaitGroup
}

func startFake(tb testing.TB) *fakeRedis {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	f := &fakeRedis{ln: ln, data: map[string]string{}}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				defer c.Close()
				f.serve(c)
			}()
		}
	}()
	tb.Cleanup(func() { ln.Close(); f.wg.Wait() })
	return f
}

func (f *fakeRedis) addr() string { return f.ln.Addr().String() }

func (f *fakeRedis) serve(c net.Conn) {
	rd := redis.NewReader(c, redis.Limits{})
	var out []byte
	for {
		cmd, ok, err := rd.Next()
		if err != nil {
			return
		}
		if !ok {
			if len(out) > 0 {
				if _, err := c.Write(out); err != nil {
					return
				}
				out = out[:0]
			}
			if rd.Fill() != nil {
				return
			}
			continue
		}
		switch string(lower(cmd.Args[0])) {
		case "set":
			f.mu.Lock()
			f.data[string(cmd.Args[1])] = string(cmd.Args[2])
			f.mu.Unlock()
			out = redis.AppendOK(out)
		case "get":
			f.mu.Lock()
			v, ok := f.data[string(cmd.Args[1])]
			f.mu.Unlock()
			if ok {
				out = redis.AppendBulkString(out, v)
			} else {
				out = redis.AppendNullBulk(out)
			}
		case "ping":
			out = append(out, "+PONG\r\n"...)
		default:
			out = redis.AppendErr(out, "unknown command")
		}
	}
}

// newTestProxy builds a redis_proxy whose catch-all cluster has the given
// endpoint, as the server would: with an event loop, which serves its plain
// TCP clients (loop.go) where the platform has one.
func newTestProxy(tb testing.TB, addr string, mutate func(*Config)) (*Proxy, *stats.Store) {
	loops, err := ioloop.New(1)
	if err == nil {
		tb.Cleanup(loops.Close)
	}
	return buildTestProxy(tb, addr, loops, mutate)
}

// newGoroutineProxy is newTestProxy without event loops: every client is
// served by its goroutines.
func newGoroutineProxy(tb testing.TB, addr string, mutate func(*Config)) (*Proxy, *stats.Store) {
	return buildTestProxy(tb, addr, nil, mutate)
}

func buildTestProxy(tb testing.TB, addr string, loops *ioloop.Group, mutate func(*Config)) (*Proxy, *stats.Store) {
	store := stats.New()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr := cluster.NewManager(store.Root(), log)
	var cc config.Cluster
	cc.SetDefaults()
	cc.Name, cc.Endpoints, cc.ConnectTimeout = "up", []config.Endpoint{{Address: addr, Weight: 1}}, config.Duration(time.Second)
	mgr.Apply([]config.Cluster{cc})
	tb.Cleanup(mgr.Close)
	cfg := NewConfig()
	cfg.StatPrefix = "t"
	cfg.Settings.OpTimeout = config.Duration(time.Second)
	cfg.PrefixRoutes.CatchAllRoute = &Route{Cluster: "up"}
	if mutate != nil {
		mutate(cfg)
	}
	p, err := New(cfg, &filters.Env{Stats: store.Root(), Clusters: mgr, Log: log, Loops: loops})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	return p, store
}

// serveClient runs p.Serve on a loopback TCP connection and returns the
// client's end (a *net.TCPConn, so tests can half-close it).
func serveClient(tb testing.TB, p *Proxy) (*net.TCPConn, <-chan struct{}) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	cli, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := ln.Accept()
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	s := &filters.Session{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	go func() {
		defer close(done)
		p.Serve(context.Background(), s, srv.(*net.TCPConn))
		srv.Close()
	}()
	tb.Cleanup(func() { cli.Close(); <-done })
	return cli.(*net.TCPConn), done
}
