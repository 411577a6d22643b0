package redis

import (
	"encoding/binary"

	"github.com/sluice-proxy/sluice/codec/redis"
)

// stdHashSeed is libstdc++'s std::hash seed, the default seed of Envoy's
// MurmurHash::murmurHash2, which redis_proxy hashes keys with
// (RedisLoadBalancerContextImpl: murmurHash2(hashtag(key)) for ring_hash and
// maglev; CRC16 for Redis Cluster).
const stdHashSeed = 0xc70f6907

// keyHash is Envoy's MurmurHash::murmurHash2 (the 64-bit MurmurHash2 of
// libstdc++'s _Hash_bytes on little-endian hosts). Hand-written because
// cluster/lb keeps its copy unexported; it is 25 lines and allocation-free.
func keyHash(key []byte) uint64 {
	const mul = 0xc6a4a7935bd1e995
	n := len(key)
	h := uint64(stdHashSeed) ^ (uint64(n) * mul)
	whole := n &^ 7
	for p := 0; p < whole; p += 8 {
		k := binary.LittleEndian.Uint64(key[p:]) * mul
		k ^= k >> 47
		h ^= k * mul
		h *= mul
	}
	if rest := key[whole:]; len(rest) > 0 {
		var tail uint64
		for i := len(rest) - 1; i >= 0; i-- {
			tail = tail<<8 | uint64(rest[i])
		}
		h ^= tail
		h *= mul
	}
	h ^= h >> 47
	h *= mul
	h ^= h >> 47
	return h
}

// HashKey returns the hash redis_proxy gives a ring_hash or maglev balancer
// for key: Envoy's MurmurHash2 of the key, or of its {tag} with
// enable_hashtagging.
func HashKey(key []byte, hashtagging bool) uint64 {
	if hashtagging {
		key = redis.HashTag(key)
	}
	return keyHash(key)
}
