package muxpool_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/cluster/muxpool"
	codec "github.com/sluice-proxy/sluice/codec/thrift"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/guard"
	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/thrifttest"
	"github.com/sluice-proxy/sluice/internal/thrifttest/calc"
	"github.com/sluice-proxy/sluice/stats"
)

// TestMain fails the package's tests if a goroutine outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var stack = thrifttest.Stack{Transport: "framed", Protocol: "binary"}

// setup is a cluster of the given hosts and a pool of Thrift replies on it.
func setup(t *testing.T, cfg muxpool.Config, hosts ...string) (*cluster.Manager, *cluster.Cluster, *muxpool.Pool[*codec.Message], *stats.Store) {
	t.Helper()
	store := stats.New()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr := cluster.NewManager(store.Root(), log)
	mgr.Apply([]config.Cluster{clusterCfg(hosts...)})
	t.Cleanup(mgr.Close)
	c := mgr.Get("up")
	read := func(br *bufio.Reader) func() (int32, *codec.Message, error) {
		d := codec.NewDecoder(br, codec.TransportFramed, codec.ProtocolBinary, 1<<20)
		return func() (int32, *codec.Message, error) {
			m, err := d.Next()
			if err != nil {
				return 0, nil, err
			}
			return m.SeqID, m, nil
		}
	}
	p := muxpool.New(c, read, cfg, &guard.Guard{Log: log})
	t.Cleanup(func() { p.Close() })
	return mgr, c, p, store
}

func clusterCfg(hosts ...string) config.Cluster {
	var cc config.Cluster
	cc.SetDefaults()
	cc.Name, cc.ConnectTimeout = "up", config.Duration(time.Second)
	for _, h := range hosts {
		cc.Endpoints = append(cc.Endpoints, config.Endpoint{Address: h, Weight: 1})
	}
	return cc
}

// call encodes a Calc call captured from the library's client; the pool
// gives it the connection's id.
func call(fn func(ctx context.Context, c *calc.CalcClient)) muxpool.EncodeFunc {
	raw := thrifttest.Capture(stack, "", fn)
	m, err := codec.NewDecoder(bufio.NewReader(bytesReader(raw)), codec.TransportFramed, codec.ProtocolBinary, 1<<20).Next()
	if err != nil {
		panic(err)
	}
	return func(dst []byte, id int32) ([]byte, error) {
		return codec.Encode(dst, m, codec.Target{}, m.Name, id)
	}
}

func echoReply(t *testing.T, m *codec.Message) string {
	t.Helper()
	var r calc.CalcEchoResult
	mem := &thrift.TMemoryBuffer{Buffer: bytesBuffer(m.Body)}
	if err := r.Read(context.Background(), thrift.NewTBinaryProtocolConf(mem, nil)); err != nil {
		t.Fatal(err)
	}
	return r.GetSuccess()
}

// TestSharedIDs: 64 concurrent calls over one connection, each matched to
// its own reply by the id the pool gave it.
func TestSharedIDs(t *testing.T) {
	srv := thrifttest.StartServer(t, "s", stack)
	_, c, p, store := setup(t, muxpool.Config{MaxConnsPerHost: 1, MaxPerConn: 64}, srv.Addr)
	h := c.Hosts()[0]
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			want := fmt.Sprint("call ", i)
			cl := p.Send(context.Background(), h, call(func(ctx context.Context, c *calc.CalcClient) { c.Echo(ctx, want) }), false, 5*time.Second, nil)
			<-cl.Done
			if cl.Err != nil {
				t.Error(cl.Err)
				return
			}
			if got := echoReply(t, cl.Reply); got != want {
				t.Errorf("reply %q, want %q", got, want)
			}
		}(i)
	}
	wg.Wait()
	if n, _ := store.CounterValue("cluster.up.upstream_cx_total"); n != 1 || p.Conns() != 1 {
		t.Fatalf("upstream_cx_total %d, conns %d; want 1", n, p.Conns())
	}
}

// TestTimeoutRetiresConn: a call that times out ends with ErrTimeout and
// its connection takes no new calls; it closes once its late reply is in.
func TestTimeoutRetiresConn(t *testing.T) {
	srv := thrifttest.StartServer(t, "s", stack)
	_, c, p, store := setup(t, muxpool.Config{}, srv.Addr)
	h := c.Hosts()[0]
	// The connection is made first, so that the 50 ms below bounds the
	// call, not the dial (a slow dial on a loaded machine timed the call
	// out before it was sent: the connection was then fresh, not retired).
	warm := p.Send(context.Background(), h, call(func(ctx context.Context, c *calc.CalcClient) { c.Echo(ctx, "w") }), false, 5*time.Second, nil)
	<-warm.Done
	if warm.Err != nil {
		t.Fatal(warm.Err)
	}
	// 500 ms against a 2 s sleep: the call is sent well within its timeout
	// even on a machine busy with CI's parallel packages (50 ms against
	// 300 ms failed there: the call timed out unsent, so nothing retired).
	slow := p.Send(context.Background(), h, call(func(ctx context.Context, c *calc.CalcClient) { c.Sleep(ctx, 2000) }), false, 500*time.Millisecond, nil)
	<-slow.Done
	if !errors.Is(slow.Err, muxpool.ErrTimeout) {
		t.Fatalf("slow call: %v, want ErrTimeout", slow.Err)
	}
	fast := p.Send(context.Background(), h, call(func(ctx context.Context, c *calc.CalcClient) { c.Echo(ctx, "x") }), false, 5*time.Second, nil)
	<-fast.Done
	if fast.Err != nil || echoReply(t, fast.Reply) != "x" {
		t.Fatalf("call after a timeout: %v", fast.Err)
	}
	if n, _ := store.CounterValue("cluster.up.upstream_cx_total"); n != 2 {
		t.Fatalf("upstream_cx_total %d, want 2 (the timed-out connection retired)", n)
	}
	if !poll.Until(10*time.Second, func() bool { v, _ := store.CounterValue("cluster.up.upstream_cx_destroy_local"); return v == 1 }) {
		t.Fatal("the retired connection did not close after its late reply")
	}
}

// TestHostRemovedAndClose: a host leaving the cluster closes its idle
// connection; Close fails the calls in flight with ErrClosed.
func TestHostRemovedAndClose(t *testing.T) {
	a := thrifttest.StartServer(t, "a", stack)
	b := thrifttest.StartServer(t, "b", stack)
	mgr, c, p, store := setup(t, muxpool.Config{}, a.Addr)
	ha := c.Hosts()[0]
	first := p.Send(context.Background(), ha, call(func(ctx context.Context, c *calc.CalcClient) { c.Echo(ctx, "a") }), false, time.Second, nil)
	<-first.Done
	if first.Err != nil || p.Conns() != 1 {
		t.Fatalf("first call: %v, conns %d", first.Err, p.Conns())
	}
	mgr.Apply([]config.Cluster{clusterCfg(b.Addr)})
	if !poll.Until(5*time.Second, func() bool { return p.Conns() == 0 }) {
		t.Fatalf("connection to the removed host still open (%d)", p.Conns())
	}
	hb := c.Hosts()[0]
	done := make(chan *muxpool.Call[*codec.Message], 1)
	p.Send(context.Background(), hb, call(func(ctx context.Context, c *calc.CalcClient) { c.Sleep(ctx, -1) }), false, 0,
		func(cl *muxpool.Call[*codec.Message]) { done <- cl })
	poll.Until(5*time.Second, func() bool { return b.Count("sleep") == 1 })
	p.Close()
	if cl := <-done; !errors.Is(cl.Err, muxpool.ErrClosed) {
		t.Fatalf("call in flight at Close: %v, want ErrClosed", cl.Err)
	}
	if v, _ := store.GaugeValue("cluster.up.upstream_cx_active"); v != 0 {
		t.Fatalf("upstream_cx_active %d after Close", v)
	}
}
