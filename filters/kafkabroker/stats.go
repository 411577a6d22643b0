package kafkabroker

import (
	kcodec "github.com/sluice-proxy/sluice/codec/kafka"
	"github.com/sluice-proxy/sluice/stats"
)

// numKeys is the size of the per-API stat arrays, indexed by API key.
const numKeys = int(kcodec.MaxAPIKey) + 1

// Stats are kafka_broker's stats with Envoy's names under
// kafka.<stat_prefix>. The per-API handles are resolved once, in arrays
// indexed by API key, so that counting a request is an index and an atomic add.
type Stats struct {
	Request         [numKeys]*stats.Counter   // request.<api>_request
	RequestUnknown  *stats.Counter            // request.unknown: an API key the codec does not know
	RequestFailure  *stats.Counter            // request.failure: a header that could not be decoded
	Response        [numKeys]*stats.Counter   // response.<api>_response
	ResponseUnknown *stats.Counter            // response.unknown: no request matches the correlation id
	ResponseFailure *stats.Counter            // response.failure: a header or body that could not be decoded
	Duration        [numKeys]*stats.Histogram // response.<api>_duration, milliseconds
	Denied          *stats.Counter            // request.denied (sluice): refused by api_keys_allowed/denied
}

func newStats(root *stats.Scope, prefix string) *Stats {
	sc := root.Sub("kafka").Tagged("envoy_kafka_prefix", prefix)
	st := &Stats{
		RequestUnknown:  sc.Counter("request.unknown"),
		RequestFailure:  sc.Counter("request.failure"),
		ResponseUnknown: sc.Counter("response.unknown"),
		ResponseFailure: sc.Counter("response.failure"),
		Denied:          sc.Counter("request.denied"),
	}
	for k := 0; k < numKeys; k++ {
		name := kcodec.ApiName(int16(k))
		if name == "" {
			continue
		}
		st.Request[k] = sc.Counter("request." + name + "_request")
		st.Response[k] = sc.Counter("response." + name + "_response")
		st.Duration[k] = sc.Histogram("response." + name + "_duration")
	}
	return st
}

// request counts one decoded request header.
func (st *Stats) request(key int16) {
	if key >= 0 && int(key) < numKeys && st.Request[key] != nil {
		st.Request[key].Inc()
		return
	}
	st.RequestUnknown.Inc()
}

// response counts one matched response and its latency.
func (st *Stats) response(key int16, ms float64) {
	if key >= 0 && int(key) < numKeys && st.Response[key] != nil {
		st.Response[key].Inc()
		st.Duration[key].Record(ms)
		return
	}
	st.ResponseUnknown.Inc()
}
