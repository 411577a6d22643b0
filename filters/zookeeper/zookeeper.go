// Package zookeeper is the zookeeper_proxy observer filter, after Envoy's
// envoy.filters.network.zookeeper_proxy: it decodes the ZooKeeper protocol
// in both directions as it passes (codec/zookeeper), counts Envoy's stats
// under <stat_prefix>.zookeeper. (per-opcode requests and responses,
// latency histograms with Envoy's names, fast/slow responses against
// latency thresholds, request and response bytes, auth schemes, watch
// events, decoder errors), and publishes each message's dynamic metadata
// under Envoy's namespace and keys.
//
// Replies carry only the xid; ZooKeeper answers a session's requests in
// order, so the filter keeps a FIFO of the requests in flight (xid, opcode,
// start time), bounded by maxPending, and matches each reply to it.
//
// With a request gate (rbac with zookeeper or metadata permissions) in the
// chain, each request is held until complete and judged; a refused one is
// replaced by an exists on a path that cannot exist, whose error reply the
// filter rewrites to NOAUTH (-102) on its way back. The client thus gets
// its answer in order, the session stays usable, and the server's zxid
// stays right. Gated connections run on the goroutine path; others may be
// handed to the event loops.
//
// A malformed or oversized frame counts decoder_error (and
// <op>_decoder_error) and closes that connection; Envoy counts and stops
// decoding instead.
package zookeeper

import (
	"github.com/sluice-proxy/sluice/filters"

	zk "github.com/sluice-proxy/sluice/codec/zookeeper"
)

// Name is the filter's config key.
const Name = "zookeeper_proxy"

func init() {
	filters.Register(filters.Typed(Name, filters.Observer, NewConfig, New))
}

// Filter is a built zookeeper_proxy, shared by its chain's connections.
type Filter struct {
	cfg   *Config
	stats *Stats
	codec zk.Config
}

// New builds the filter from a validated config.
func New(cfg *Config, env *filters.Env) (*Filter, error) {
	return &Filter{cfg: cfg, stats: newStats(env.Stats, cfg), codec: zk.Config{MaxPacketBytes: int(cfg.MaxPacketBytes)}}, nil
}

// Stats returns the filter's stat handles.
func (f *Filter) Stats() *Stats { return f.stats }

// Observe wraps the connection in the decoding conn.
func (f *Filter) Observe(s *filters.Session, c filters.Conn) (filters.Conn, error) {
	return newConn(f, s, c), nil
}

var _ filters.ObserverFilter = (*Filter)(nil)
