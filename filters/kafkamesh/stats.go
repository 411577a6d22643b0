package kafkamesh

import (
	kcodec "github.com/sluice-proxy/sluice/codec/kafka"
	"github.com/sluice-proxy/sluice/stats"
)

const numKeys = int(kcodec.MaxAPIKey) + 1

// Stats are kafka_mesh's stats under kafka_mesh.<stat_prefix>. (Envoy's mesh
// has none of its own; the names follow kafka_broker's.)
type Stats struct {
	Request     [numKeys]*stats.Counter // request.<api>_request
	Unsupported *stats.Counter          // request.unsupported: answered with UNSUPPORTED_VERSION
	Failure     *stats.Counter          // request.failure: an undecodable request (connection closed)
	Unrouted    *stats.Counter          // request.unrouted_topic: a topic no forwarding rule matches
	Upstream    *stats.Counter          // upstream_failure: an upstream request failed
	Duration    [numKeys]*stats.Histogram
}

func newStats(root *stats.Scope, prefix string) *Stats {
	sc := root.Sub("kafka_mesh").Tagged("envoy_kafka_mesh_prefix", prefix)
	st := &Stats{
		Unsupported: sc.Counter("request.unsupported"),
		Failure:     sc.Counter("request.failure"),
		Unrouted:    sc.Counter("request.unrouted_topic"),
		Upstream:    sc.Counter("upstream_failure"),
	}
	for _, k := range supported {
		name := kcodec.ApiName(k.key)
		st.Request[k.key] = sc.Counter("request." + name + "_request")
		st.Duration[k.key] = sc.Histogram("response." + name + "_duration")
	}
	return st
}
