package kafkabroker

import (
	"fmt"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kmsg"

	kcodec "github.com/sluice-proxy/sluice/codec/kafka"
)

// keyDescribeCluster is DescribeCluster's API key.
const keyDescribeCluster = 60

// staticRewrite maps broker ids to the addresses of Envoy's
// id_based_broker_address_rewrite_spec; other brokers keep theirs.
func staticRewrite(rules []RewriteRule) kcodec.AddrFunc {
	m := make(map[int32]RewriteRule, len(rules))
	for _, r := range rules {
		m[int32(r.ID)] = r
	}
	return func(id int32, host string, port int32) (string, int32) {
		if r, ok := m[id]; ok {
			return r.Host, int32(r.Port)
		}
		return host, port
	}
}

// reencode returns a response body (after its header) to send in place of
// body: broker addresses rewritten where the API carries them, and every
// other captured response (force_response_rewrite) decoded and re-encoded.
func (f *Filter) reencode(key, version int16, body []byte) ([]byte, error) {
	if f.rewrite != nil && kcodec.RewritesAddresses(key) {
		if f.auto == nil || (key != kcodec.KeyMetadata && key != keyDescribeCluster) {
			return kcodec.RewriteResponse(key, version, body, f.rewrite)
		}
		// A full broker list: the brokers missing from it lose their listeners.
		brokers := map[string]bool{}
		out, err := kcodec.RewriteResponse(key, version, body, func(id int32, host string, port int32) (string, int32) {
			if host != "" && port > 0 {
				brokers[net.JoinHostPort(host, strconv.Itoa(int(port)))] = true
			}
			return f.rewrite(id, host, port)
		})
		if err == nil {
			f.auto.retain(brokers)
		}
		return out, err
	}
	r := kmsg.ResponseForKey(key)
	if r == nil {
		return nil, fmt.Errorf("%w: %d", kcodec.ErrUnknownAPIKey, key)
	}
	r.SetVersion(version)
	if err := r.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("decoding %s response v%d: %w", apiLabel(key), version, err)
	}
	return r.AppendTo(nil), nil
}
