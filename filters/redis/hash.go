package redis

import (
	"github.com/sluice-proxy/sluice/cluster/lb"
	"github.com/sluice-proxy/sluice/codec/redis"
)

// HashKey returns the hash redis_proxy gives a ring_hash or maglev balancer
// for key: Envoy's MurmurHash2 (RedisLoadBalancerContextImpl:
// murmurHash2(hashtag(key))) of the key, or of its {tag} with
// enable_hashtagging; Redis Cluster routes use CRC16 slots instead.
func HashKey(key []byte, hashtagging bool) uint64 {
	if hashtagging {
		key = redis.HashTag(key)
	}
	return lb.MurmurHash2(key)
}
