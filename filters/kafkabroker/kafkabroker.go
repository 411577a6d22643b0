// Package kafkabroker is the kafka_broker observer filter, after Envoy's
// filter of that name: it frames both directions of a Kafka client-broker
// connection with codec/kafka, counts every request and response by API
// (with latency histograms), refuses API keys with the API's own error
// response, and rewrites broker addresses in Metadata, FindCoordinator and
// DescribeCluster responses so that clients keep talking through sluice: by
// static rules per broker id (Envoy's id_based_broker_address_rewrite_spec),
// or automatically, with one listener per discovered broker (listeners the
// server owns, opened through filters.Env.Listeners).
//
// Written by hand, and why: the connection wrapper that drops refused
// requests from the client stream and splices error responses and rewritten
// responses into the broker stream in correlation order. codec/kafka's
// framers only observe a stream; neither kafka-go nor franz-go has a proxy
// side, and kafka-proxy's equivalent is tied to its own server.
package kafkabroker

import (
	"fmt"
	"time"

	kcodec "github.com/sluice-proxy/sluice/codec/kafka"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/tracing"
)

// Name is the filter's config key.
const Name = "kafka_broker"

func init() {
	filters.Register(filters.Typed(Name, filters.Observer, NewConfig, New))
}

// Filter is a built kafka_broker; one per filter chain, shared by its
// connections.
type Filter struct {
	cfg   *Config
	stats *Stats
	// refused[k] is true when API key k is refused; keys past the array are
	// refused when an allow list exists.
	refused      [numKeys]bool
	refuseOthers bool
	denying      bool
	// rewrite maps broker addresses; nil leaves responses untouched.
	rewrite kcodec.AddrFunc
	auto    *autoSet
	lim     kcodec.Limits
	// spans are the request spans (tracing.go); nil when off.
	spans *tracing.Statements
}

// New builds a kafka_broker from a validated config.
func New(cfg *Config, env *filters.Env) (*Filter, error) {
	f := &Filter{cfg: cfg, stats: newStats(env.Stats, cfg.StatPrefix)}
	if len(cfg.APIKeysAllowed) > 0 {
		f.refuseOthers = true
		for k := range f.refused {
			f.refused[k] = true
		}
		for _, k := range cfg.APIKeysAllowed {
			if int(k) < numKeys {
				f.refused[k] = false
			}
		}
	}
	for _, k := range cfg.APIKeysDenied {
		if int(k) < numKeys {
			f.refused[k] = true
		}
	}
	for _, r := range f.refused {
		f.denying = f.denying || r
	}
	f.denying = f.denying || f.refuseOthers
	spans, err := tracing.NewStatements(cfg.Tracing, "kafka", tracing.Deps{Clusters: env.Clusters, Log: env.Log})
	if err != nil {
		return nil, fmt.Errorf("kafka_broker: tracing: %w", err)
	}
	f.spans = spans
	switch {
	case cfg.IDBasedBrokerAddressRewriteSpec != nil:
		f.rewrite = staticRewrite(cfg.IDBasedBrokerAddressRewriteSpec.Rules)
	case cfg.auto() != nil:
		auto, err := autoSetFor(env, cfg.StatPrefix, cfg.auto())
		if err != nil {
			return nil, err
		}
		f.auto, f.rewrite = auto, auto.addr
		auto.add(f) // last: from here on other goroutines may use f
	}
	return f, nil
}

// Close (filters.Closer) lets go of the per-broker listeners: the last
// filter of a set to close closes them.
func (f *Filter) Close() error {
	defer f.spans.Close()
	if f.auto != nil {
		f.auto.release(f)
	}
	return nil
}

// Observe wraps c so that the filter sees, and where configured changes,
// both byte streams.
func (f *Filter) Observe(s *filters.Session, c filters.Conn) (filters.Conn, error) {
	return newConn(f, s, c), nil
}

// isRefused reports whether requests with API key k are answered with an
// error instead of being forwarded.
func (f *Filter) isRefused(k int16) bool {
	if k < 0 || int(k) >= numKeys {
		return f.refuseOthers
	}
	return f.refused[k]
}

// captures reports whether responses to key are decoded and re-encoded.
func (f *Filter) captures(key int16) bool {
	return f.cfg.ForceResponseRewrite || (f.rewrite != nil && kcodec.RewritesAddresses(key))
}

// refusalCode is the error code a refused request is answered with: the
// authorization failure of the resource the API works on.
func refusalCode(key int16) int16 {
	switch key {
	case 0, 1, 2, 3, 19, 20, 21, 23, 37: // produce, fetch, list_offsets, metadata, create/delete topics, delete_records, offset_for_leader_epoch, create_partitions
		return kcodec.ErrCodeTopicAuthorizationFailed
	case 8, 9, 11, 12, 13, 14, 15, 16, 42, 47, 68: // offsets and group membership
		return kcodec.ErrCodeGroupAuthorizationFailed
	}
	return kcodec.ErrCodeClusterAuthorizationFailed
}

func sinceMs(stamp int64) float64 {
	return float64(time.Now().UnixNano()-stamp) / 1e6
}

var (
	_ filters.ObserverFilter = (*Filter)(nil)
	_ filters.Closer         = (*Filter)(nil)
)
