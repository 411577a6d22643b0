package kafkabroker

import (
	kcodec "github.com/sluice-proxy/sluice/codec/kafka"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/tracing"
)

// Request spans (config `tracing`, sluice's, off by default): a span from
// each request that expects a response to the response with its
// correlation id, named by the API as Envoy's stats name it (produce, fetch, metadata...), its own
// trace (Kafka requests carry no trace context; record headers are the
// producer's business), failed when the response could not be read. Both
// calls run under conn.mu; outstanding spans are bounded by the response
// framer's limit on expected responses.

func (k *conn) startSpan(corr int32, key int16) {
	if k.f.spans == nil {
		return
	}
	sp := k.f.spans.Start(kcodec.ApiName(key), "")
	if sp == nil {
		return
	}
	if k.spans == nil {
		k.spans = make(map[int32]*tracing.StatementSpan)
	}
	k.spans[corr] = sp
}

func (k *conn) endSpan(corr int32, failed bool) {
	if sp, ok := k.spans[corr]; ok {
		delete(k.spans, corr)
		sp.End(failed)
	}
}

// ClusterRefs names the tracing exporter's cluster for the loader's check.
func (c *Config) ClusterRefs(path string) []config.ClusterRef {
	if c.Tracing == nil {
		return nil
	}
	return c.Tracing.ClusterRefs(config.Join(path, "tracing"))
}
