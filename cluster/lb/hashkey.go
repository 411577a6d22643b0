package lb

import (
	"encoding/binary"
	"math/bits"
)

// HashKey returns the string ring_hash and maglev place a host by, with
// Envoy's precedence: the endpoint's explicit hash key (Envoy's
// filter_metadata["envoy.lb"].hash_key) when set, else the hostname when
// useHostname (use_hostname_for_hashing) is on, else the "ip:port" address.
//
// Two hosts with the same key take the same ring points and the same maglev
// permutation; Envoy does not deduplicate them and neither does sluice (see
// the policies' docs for which one wins).
func HashKey(address, hostname, override string, useHostname bool) string {
	switch {
	case override != "":
		return override
	case useHostname && hostname != "":
		return hostname
	default:
		return address
	}
}

// stdHashSeed is libstdc++'s std::hash seed, the default seed of Envoy's
// MurmurHash::murmurHash2, which ring_hash's MURMUR_HASH_2 option and
// redis_proxy's key hashing use.
const stdHashSeed = 0xc70f6907

// MurmurHash2 is Envoy's MurmurHash::murmurHash2 with its default seed: the
// hash ring_hash places hosts by under MURMUR_HASH_2 and redis_proxy hashes
// keys with (RedisLoadBalancerContextImpl), so that a key lands on the same
// host as behind Envoy. It allocates nothing.
func MurmurHash2(key []byte) uint64 { return murmur2(key, stdHashSeed) }

// murmur2 is the 64-bit MurmurHash2 variant of libstdc++'s _Hash_bytes, as
// Envoy's MurmurHash::murmurHash2 computes it on little-endian 64-bit hosts.
func murmur2(key []byte, seed uint64) uint64 {
	const mul = 0xc6a4a7935bd1e995
	shiftMix := func(v uint64) uint64 { return v ^ (v >> 47) }
	n := len(key)
	h := seed ^ (uint64(n) * mul)
	whole := n &^ 7
	for p := 0; p < whole; p += 8 {
		h ^= shiftMix(binary.LittleEndian.Uint64(key[p:])*mul) * mul
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
	h = shiftMix(h) * mul
	return shiftMix(h)
}

// mulHi64 scales a uniformly random 64-bit value into [0, n) without a
// division (Lemire's multiply-high).
func mulHi64(r, n uint64) uint64 {
	hi, _ := bits.Mul64(r, n)
	return hi
}
