package redis

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sluice-proxy/sluice/codec/redis"
	"github.com/sluice-proxy/sluice/stats"
)

// Stats are redis_proxy's stats with Envoy's names under redis.<stat_prefix>.
type Stats struct {
	CxTotal            *stats.Counter
	CxActive           *stats.Gauge
	CxProtocolError    *stats.Counter
	RqTotal            *stats.Counter
	RqActive           *stats.Gauge
	InvalidRequest     *stats.Counter
	UnsupportedCommand *stats.Counter
	// UpstreamRqTimeout counts requests failed by op_timeout.
	UpstreamRqTimeout *stats.Counter
	// RxBuffered is what sluice holds of bytes received from clients: their
	// read buffers plus request bytes queued upstream whose reply has not
	// come; TxBuffered the reply bytes held for clients, ready or waiting
	// for an earlier reply, not yet written.
	RxBuffered *stats.Gauge
	TxBuffered *stats.Gauge
	// RqTooLarge counts commands (and split replies) refused because they
	// exceed per_connection_buffer_limit_bytes and cannot be streamed.
	RqTooLarge *stats.Counter
	// RqTimeout counts connections closed by request_timeout.
	RqTimeout *stats.Counter

	scope *stats.Scope
	// cmds holds command.<cmd>.* handles indexed by the command table
	// entry, made on a command's first use (as Envoy does) so that unused
	// commands do not crowd the stats output.
	cmds   []atomic.Pointer[CommandStats]
	cmdsMu sync.Mutex
}

// CommandStats are the filter's per-command stats (command.<cmd>.*),
// counted for every known command as Envoy does.
type CommandStats struct {
	Total   *stats.Counter
	Success *stats.Counter
	Error   *stats.Counter
	// Latency is in milliseconds, Envoy's default unit.
	Latency *stats.Histogram
}

func newStats(root *stats.Scope, prefix string) *Stats {
	sc := root.Sub("redis").Tagged("envoy_redis_prefix", prefix)
	return &Stats{
		CxTotal:            sc.Counter("downstream_cx_total"),
		CxActive:           sc.Gauge("downstream_cx_active"),
		CxProtocolError:    sc.Counter("downstream_cx_protocol_error"),
		RqTotal:            sc.Counter("downstream_rq_total"),
		RqActive:           sc.Gauge("downstream_rq_active"),
		InvalidRequest:     sc.Sub("splitter").Counter("invalid_request"),
		UnsupportedCommand: sc.Sub("splitter").Counter("unsupported_command"),
		UpstreamRqTimeout:  sc.Counter("upstream_rq_timeout"),
		RxBuffered:         sc.Gauge("downstream_cx_rx_bytes_buffered"),
		TxBuffered:         sc.Gauge("downstream_cx_tx_bytes_buffered"),
		RqTooLarge:         sc.Counter("downstream_rq_too_large"),
		RqTimeout:          sc.Counter("downstream_rq_timeout"),
		scope:              sc,
		cmds:               make([]atomic.Pointer[CommandStats], redis.CommandCount()),
	}
}

// Command returns the stats of a known command, creating them on first use.
func (s *Stats) Command(ci *redis.CommandInfo) *CommandStats {
	i := ci.Index()
	if i < 0 {
		return nil
	}
	if cs := s.cmds[i].Load(); cs != nil {
		return cs
	}
	s.cmdsMu.Lock()
	defer s.cmdsMu.Unlock()
	if cs := s.cmds[i].Load(); cs != nil {
		return cs
	}
	sc := s.scope.Sub("command").Sub(strings.ToLower(ci.Name))
	cs := &CommandStats{
		Total:   sc.Counter("total"),
		Success: sc.Counter("success"),
		Error:   sc.Counter("error"),
		Latency: sc.Histogram("latency"),
	}
	s.cmds[i].Store(cs)
	return cs
}
