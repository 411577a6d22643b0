package redis

import (
	"testing"

	"github.com/sluice-proxy/sluice/codec/redis"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestUpstreamCommandStats checks enable_command_stats against a real
// redis-server: per-cluster upstream_commands.<cmd>.total|success|failure
// and the latency histograms, with Envoy's names; an error reply counts as
// a failure.
func TestUpstreamCommandStats(t *testing.T) {
	srv := testenv.Redis(t)
	p, store := newTestProxy(t, srv.Addr(), func(c *Config) { c.Settings.EnableCommandStats = true })
	cmd := func(args ...string) string { return string(redis.AppendCommandString(nil, args...)) }
	// INCR on a string value is an error reply from the server.
	in := cmd("SET", "k", "v") + cmd("GET", "k") + cmd("GET", "k") + cmd("INCR", "k") + cmd("QUIT")
	want := "+OK\r\n$1\r\nv\r\n$1\r\nv\r\n-ERR value is not an integer or out of range\r\n+OK\r\n"
	if got := roundTrip(t, p, in); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	for name, v := range map[string]uint64{
		"cluster.up.redis_cluster.upstream_commands.get.total":    2,
		"cluster.up.redis_cluster.upstream_commands.get.success":  2,
		"cluster.up.redis_cluster.upstream_commands.get.failure":  0,
		"cluster.up.redis_cluster.upstream_commands.set.total":    1,
		"cluster.up.redis_cluster.upstream_commands.incr.total":   1,
		"cluster.up.redis_cluster.upstream_commands.incr.failure": 1,
		"redis.t.command.get.total":                               2,
	} {
		if got, _ := store.CounterValue(name); got != v {
			t.Errorf("%s = %d, want %d", name, got, v)
		}
	}
	for name, n := range map[string]uint64{
		"cluster.up.redis_cluster.upstream_commands.get.latency":      2,
		"cluster.up.redis_cluster.upstream_commands.upstream_rq_time": 4,
		"cluster.up.redis_cluster.upstream_commands.incr.latency":     1,
	} {
		h, ok := store.HistogramSnapshot(name)
		if !ok || h.Count != n {
			t.Errorf("%s: %d samples (exists %v), want %d", name, h.Count, ok, n)
		}
	}
}

// TestUpstreamCommandStatsOff checks that without enable_command_stats no
// upstream_commands.* exist (Envoy's default), while command.<cmd>.* do.
func TestUpstreamCommandStatsOff(t *testing.T) {
	srv := testenv.Redis(t)
	p, store := newTestProxy(t, srv.Addr(), nil)
	in := string(redis.AppendCommandString(nil, "GET", "k")) + string(redis.AppendCommandString(nil, "QUIT"))
	if got := roundTrip(t, p, in); got != "$-1\r\n+OK\r\n" {
		t.Fatalf("got %q", got)
	}
	if _, ok := store.CounterValue("cluster.up.redis_cluster.upstream_commands.get.total"); ok {
		t.Error("redis_cluster.upstream_commands.get.total exists with enable_command_stats off")
	}
	if got, _ := store.CounterValue("redis.t.command.get.total"); got != 1 {
		t.Errorf("command.get.total = %d, want 1", got)
	}
}
