package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/sluice-proxy/sluice/internal/testenv"
)

// load counts the outcomes of one client loop.
type load struct {
	name     string
	ok, fail atomic.Int64
	mu       sync.Mutex
	errs     []string
}

func (l *load) record(err error) {
	if err == nil {
		l.ok.Add(1)
		return
	}
	l.fail.Add(1)
	l.mu.Lock()
	if len(l.errs) < 5 {
		l.errs = append(l.errs, err.Error())
	}
	l.mu.Unlock()
}

// run calls one until ctx ends, from n goroutines.
func (l *load) run(ctx context.Context, wg *sync.WaitGroup, n int, one func() error) {
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				l.record(one())
			}
		}()
	}
}

// tcpShort is one short connection: dial, one echo, close.
func tcpShort(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintln(c, "ping"); err != nil {
		return err
	}
	l, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || l != "ping\n" {
		return fmt.Errorf("echo: %q %v", l, err)
	}
	return nil
}

// redisBurst is one client connection doing 10 SET/GET pairs, no retries.
func redisBurst(addr string, i *atomic.Int64) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, PoolSize: 1, DialTimeout: 5 * time.Second})
	defer c.Close()
	ctx := context.Background()
	for range 10 {
		k := "hr:" + strconv.FormatInt(i.Add(1), 10)
		if err := c.Set(ctx, k, k, time.Minute).Err(); err != nil {
			return err
		}
		if v, err := c.Get(ctx, k).Result(); err != nil || v != k {
			return fmt.Errorf("GET %s: %q %v", k, v, err)
		}
	}
	return nil
}

// pgSession is one client connection running 5 queries.
func pgSession(dsn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	for i := range 5 {
		var n int
		if err := c.QueryRow(ctx, "SELECT $1::int + 1", i).Scan(&n); err != nil || n != i+1 {
			return fmt.Errorf("query: %d %v", n, err)
		}
	}
	return nil
}

// startEpoch runs the binary as one hot restart epoch of file.
func startEpoch(t *testing.T, file, admin string, epoch int, hotArgs ...string) *runningSluice {
	t.Helper()
	r := &runningSluice{logs: &lockedBuffer{}, file: file, admin: admin, done: make(chan error, 1)}
	args := append([]string{"-c", file, "-restart-epoch", strconv.Itoa(epoch)}, hotArgs...)
	r.cmd = exec.Command(sluiceBinary(t), args...)
	r.cmd.Stderr = r.logs
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() {
		r.cmd.Process.Kill()
		if err := <-r.done; t.Failed() {
			t.Logf("epoch %d (%v):\n%s", epoch, err, r.logs.String())
		}
		r.done <- nil
	})
	return r
}

// TestBinaryHotRestartUnderLoad replaces a running sluice with a new process
// while clients loop through tcp_proxy (short connections and long ones),
// redis_proxy (go-redis) and postgres_proxy (pgx) against real servers:
// no connection or request fails, the old process exits once its long
// connections close, the new one serves and its counters continue from the
// old one's.
func TestBinaryHotRestartUnderLoad(t *testing.T) {
	echo := testenv.Echo(t)
	rs := testenv.Redis(t)
	pg := testenv.Postgres(t)
	admin, tcpAddr, redisAddr, pgAddr := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	cfg := fmt.Sprintf(`admin: {address: %s}
drain_timeout: 60s
listeners:
  - {name: tcp, address: %s, filters: [{tcp_proxy: {stat_prefix: tcp, cluster: echo}}]}
  - name: redis
    address: %s
    filters: [{redis_proxy: {stat_prefix: rds, settings: {op_timeout: 5s}, prefix_routes: {catch_all_route: {cluster: redis}}}}]
  - name: pg
    address: %s
    filters: [{postgres_proxy: {stat_prefix: pg}}, {tcp_proxy: {stat_prefix: pg, cluster: pg}}]
clusters:
  - {name: echo, endpoints: [%q]}
  - {name: redis, endpoints: [%q]}
  - {name: pg, endpoints: [%q]}
`, admin, tcpAddr, redisAddr, pgAddr, echo.Addr(), rs.Addr(), pg.Addr())
	dir := t.TempDir()
	file := filepath.Join(dir, "sluice.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	hot := []string{"-base-id", "7", "-socket-path", filepath.Join(dir, "hr")}
	old := startEpoch(t, file, admin, 0, hot...)
	waitFor(t, "epoch 0 ready", func() bool { return get("http://"+admin+"/ready") == "LIVE\n" })

	// Long connections, on the old process, ping all along.
	var long []*lineConn
	for range 4 {
		long = append(long, dialLines(t, tcpAddr))
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	tcp, rds, sql, lng := &load{name: "tcp_proxy short"}, &load{name: "redis_proxy"}, &load{name: "postgres_proxy"}, &load{name: "tcp_proxy long"}
	var keys atomic.Int64
	dsn := strings.Replace(pg.DSN("postgres"), pg.Addr(), pgAddr, 1)
	tcp.run(ctx, &wg, 4, func() error { return tcpShort(tcpAddr) })
	rds.run(ctx, &wg, 3, func() error { return redisBurst(redisAddr, &keys) })
	sql.run(ctx, &wg, 3, func() error { return pgSession(dsn) })
	var longWG sync.WaitGroup
	longCtx, stopLong := context.WithCancel(context.Background())
	for i, lc := range long {
		longWG.Add(1)
		go func() {
			defer longWG.Done()
			for n := 0; longCtx.Err() == nil; n++ {
				msg := fmt.Sprintf("long %d %d", i, n)
				fmt.Fprintln(lc.c, msg)
				lc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
				l, err := lc.r.ReadString('\n')
				if err == nil && l != msg+"\n" {
					err = fmt.Errorf("echo of %q: %q", msg, l)
				}
				lng.record(err)
				if err != nil {
					return
				}
			}
		}()
	}
	loads := []*load{tcp, rds, sql, lng}
	progress := func(what string, loads ...*load) {
		t.Helper()
		base := make([]int64, len(loads))
		for i, l := range loads {
			base[i] = l.ok.Load()
		}
		waitFor(t, what, func() bool {
			for i, l := range loads {
				if l.ok.Load() < base[i]+20 {
					return false
				}
			}
			return true
		})
	}
	progress("load through epoch 0", loads...)

	child := startEpoch(t, file, admin, 1, hot...)
	waitFor(t, "the old process draining", func() bool {
		return strings.Contains(old.logs.String(), "hot restart: draining and exiting")
	})
	if get("http://"+admin+"/ready") != "LIVE\n" {
		waitFor(t, "epoch 1's admin", func() bool { return get("http://"+admin+"/ready") == "LIVE\n" })
	}
	// The old process no longer accepts: new connections go to the new one.
	progress("load through epoch 1", loads...)
	select {
	case err := <-old.done:
		t.Fatalf("the old process exited with long connections open: %v", err)
	default:
	}
	stopLong()
	longWG.Wait()
	for _, lc := range long {
		lc.c.Close()
	}
	select {
	case err := <-old.done:
		old.done <- err
		if err != nil {
			t.Fatalf("the old process: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the old process did not exit after its last connection closed (drain_timeout is 60s)")
	}
	progress("load after the old process exited", tcp, rds, sql)
	stop()
	wg.Wait()
	for _, l := range loads {
		t.Logf("%s: %d ok, %d failed", l.name, l.ok.Load(), l.fail.Load())
		if l.fail.Load() != 0 {
			t.Errorf("%s: %d failed: %v", l.name, l.fail.Load(), l.errs)
		}
	}
	if !strings.Contains(child.logs.String(), "took the parent's listening sockets") || !strings.Contains(child.logs.String(), "sockets=3") {
		t.Fatalf("epoch 1 did not take the three sockets:\n%s", child.logs.String())
	}
	// Counters continue: every tcp connection either process accepted.
	want := fmt.Sprintf("listener.%s.downstream_cx_total: %d", strings.ReplaceAll(tcpAddr, ":", "_"), tcp.ok.Load()+int64(len(long)))
	waitFor(t, want, func() bool { return child.stat(want[:strings.Index(want, ":")]) == want })
	if err := tcpShort(tcpAddr); err != nil {
		t.Fatalf("epoch 1 does not serve: %v", err)
	}
	var info struct {
		Version string `json:"hot_restart_version"`
		All     string `json:"uptime_all_epochs"`
		Current string `json:"uptime_current_epoch"`
		Opts    struct {
			Epoch int `json:"restart_epoch"`
		} `json:"command_line_options"`
	}
	if err := json.Unmarshal([]byte(get("http://"+admin+"/server_info")), &info); err != nil {
		t.Fatal(err)
	}
	all, _ := time.ParseDuration(info.All)
	cur, _ := time.ParseDuration(info.Current)
	if info.Version == "" || info.Opts.Epoch != 1 || all < cur {
		t.Fatalf("/server_info of epoch 1: %+v", info)
	}
}
