package thrift_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	codec "github.com/sluice-proxy/sluice/codec/thrift"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/filters/thrift"
	"github.com/sluice-proxy/sluice/internal/thrifttest"
	"github.com/sluice-proxy/sluice/internal/thrifttest/calc"
	"github.com/sluice-proxy/sluice/stats"
)

// FuzzClient feeds arbitrary bytes to thrift_proxy (auto transport and
// protocol) in front of a real Go Thrift server, half-closes, and checks
// that the proxy ends the connection and that what it wrote back decodes
// as complete Thrift messages. Seeds are calls captured from the library's
// client in every stack.
func FuzzClient(f *testing.F) {
	for _, st := range thrifttest.Stacks {
		if st.Protocol == "lax_binary" {
			continue // auto cannot detect it: the decoder refuses it
		}
		f.Add(thrifttest.Capture(st, "", func(ctx context.Context, c *calc.CalcClient) {
			c.Add(ctx, 1, 2)
			c.Describe(ctx, &calc.Item{Name: "x", Values: []int64{1}, Attrs: map[string]float64{"a": 1}})
			c.Fail(ctx, 3)
		}))
		f.Add(thrifttest.Capture(st, "Calc", func(ctx context.Context, c *calc.CalcClient) { c.Echo(ctx, "hi") }))
	}
	srv := thrifttest.StartServer(f, "fuzz", thrifttest.Stack{Transport: "framed", Protocol: "binary"})
	p := newProxy(f, srv.Addr)
	f.Fuzz(func(t *testing.T, in []byte) {
		cli := serveClient(t, p)
		cli.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			cli.Write(in)
			cli.CloseWrite()
		}()
		out, err := io.ReadAll(cli)
		if err != nil {
			t.Fatalf("proxy did not end the connection: %v", err)
		}
		d := codec.NewDecoder(bufio.NewReader(bytes.NewReader(out)), codec.TransportAuto, codec.ProtocolAuto, 1<<20)
		for {
			if _, err := d.Next(); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatalf("proxy wrote a bad message: %v in % x", err, out)
				}
				return
			}
		}
	})
}

// newProxy builds thrift_proxy outside a server: framed/binary upstream,
// every call to one cluster, 1s request timeout.
func newProxy(tb testing.TB, addr string) *thrift.Proxy {
	store := stats.New()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr := cluster.NewManager(store.Root(), log)
	var cc config.Cluster
	cc.SetDefaults()
	cc.Name, cc.Endpoints, cc.ConnectTimeout = "up", []config.Endpoint{{Address: addr, Weight: 1}}, config.Duration(time.Second)
	cc.ThriftProtocolOptions = &config.ThriftProtocolOptions{Transport: "FRAMED", Protocol: "BINARY"}
	mgr.Apply([]config.Cluster{cc})
	tb.Cleanup(mgr.Close)
	cfg := thrift.NewConfig()
	cfg.StatPrefix = "fz"
	cfg.RequestTimeout = config.Duration(time.Second)
	empty := ""
	cfg.RouteConfig.Routes = []thrift.Route{{Match: thrift.RouteMatch{MethodName: &empty}, Route: thrift.RouteAction{Cluster: "up"}}}
	p, err := thrift.New(cfg, &filters.Env{Stats: store.Root(), Clusters: mgr, Log: log, BufferLimit: 64 << 10})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	return p
}

// serveClient runs p.Serve on a loopback connection and returns the
// client's end.
func serveClient(tb testing.TB, p *thrift.Proxy) *net.TCPConn {
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
	go func() {
		defer close(done)
		defer srv.Close()
		s := &filters.Session{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Downstream: srv}
		p.Serve(context.Background(), s, srv.(*net.TCPConn))
	}()
	tb.Cleanup(func() { cli.Close(); <-done })
	return cli.(*net.TCPConn)
}
