package kafkabroker

import (
	"math/bits"

	"github.com/sluice-proxy/sluice/filters"
)

// MetadataNamespace is where the filter publishes what it learned about a
// connection (Envoy's dynamic metadata namespace for the filter).
const MetadataNamespace = "envoy.filters.network.kafka_broker"

// Metadata is what kafka_broker publishes for a connection when it ends,
// under MetadataNamespace and in the access log's fields (kafka_client_id,
// kafka_apis).
type Metadata struct {
	// ClientID is the client id of the connection's first request.
	ClientID string
	// APIs are the names of the APIs the client used, in API key order.
	APIs []string
}

// apiSet is the set of API keys a connection used.
type apiSet [(numKeys + 63) / 64]uint64

func (a *apiSet) add(key int16) {
	if key >= 0 && int(key) < numKeys {
		a[key/64] |= 1 << (key % 64)
	}
}

func (a *apiSet) names() []string {
	var out []string
	for w, word := range a {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			word &^= 1 << b
			out = append(out, apiLabel(int16(w*64+b)))
		}
	}
	return out
}

// publish records the connection's metadata; it runs once, when the
// connection ends.
func (k *conn) publish() {
	md := Metadata{ClientID: k.clientID, APIs: k.apis.names()}
	if md.ClientID == "" && len(md.APIs) == 0 {
		return
	}
	k.s.SetMetadata(MetadataNamespace, md)
	k.s.UpdateAccess(func(a *filters.AccessRecord) {
		if a.Fields == nil {
			a.Fields = map[string]any{}
		}
		a.Fields["kafka_client_id"] = md.ClientID
		a.Fields["kafka_apis"] = md.APIs
	})
}
