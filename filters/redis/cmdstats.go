package redis

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/codec/redis"
	"github.com/sluice-proxy/sluice/stats"
)

// upstreamCommands are Envoy's per-cluster command stats, switched on by
// enable_command_stats: cluster.<name>.redis_cluster.upstream_commands.<cmd>.
// total, success, failure and latency, plus
// cluster.<name>.redis_cluster.upstream_commands.upstream_rq_time for every
// upstream request (Envoy's redis_proxy records them in its per-cluster
// "cluster.<name>.redis_cluster" scope, whatever the cluster's type). Both histograms are in microseconds, as
// Envoy's RedisCommandStats records them. They count upstream requests:
// a split MGET counts one per fragment, a redirected request once.
type upstreamCommands struct {
	scope  *stats.Scope
	rqTime *stats.Histogram
	cmds   []atomic.Pointer[upstreamCommand]
	mu     sync.Mutex // serializes first-use creation
}

// upstreamCommand is one command's upstream_commands.<cmd>.* handles.
type upstreamCommand struct {
	total, success, failure *stats.Counter
	latency, rqTime         *stats.Histogram
}

func newUpstreamCommands(clusterScope *stats.Scope) *upstreamCommands {
	sc := clusterScope.Sub("redis_cluster").Sub("upstream_commands")
	return &upstreamCommands{
		scope:  sc,
		rqTime: sc.Histogram("upstream_rq_time"),
		cmds:   make([]atomic.Pointer[upstreamCommand], redis.CommandCount()),
	}
}

// command returns ci's handles, made on first use so that unused commands
// do not crowd the stats output; nil for a command outside the table.
func (u *upstreamCommands) command(ci *redis.CommandInfo) *upstreamCommand {
	if ci == nil {
		return nil
	}
	i := ci.Index()
	if i < 0 {
		return nil
	}
	if uc := u.cmds[i].Load(); uc != nil {
		return uc
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if uc := u.cmds[i].Load(); uc != nil {
		return uc
	}
	sc := u.scope.Sub(strings.ToLower(ci.Name))
	uc := &upstreamCommand{
		total:   sc.Counter("total"),
		success: sc.Counter("success"),
		failure: sc.Counter("failure"),
		latency: sc.Histogram("latency"),
		rqTime:  u.rqTime,
	}
	u.cmds[i].Store(uc)
	return uc
}

// finish records one upstream request's outcome; failed is an error reply
// or an upstream failure (Envoy counts both as failure).
func (uc *upstreamCommand) finish(start time.Time, failed bool) {
	us := float64(time.Since(start).Microseconds())
	uc.total.Inc()
	if failed {
		uc.failure.Inc()
	} else {
		uc.success.Inc()
	}
	uc.latency.Record(us)
	uc.rqTime.Record(us)
}

// upCommand returns the route's cluster's command stats, or nil when
// enable_command_stats is off or the cluster is unknown.
func (c *client) upCommand(rt *route, ci *redis.CommandInfo) *upstreamCommand {
	if !c.p.cfg.Settings.EnableCommandStats || rt == nil || rt.upstream == nil {
		return nil
	}
	st := rt.state()
	if st.cmds == nil {
		return nil
	}
	return st.cmds.command(ci)
}
