package lb

import (
	"bytes"
	"slices"
	"testing"
)

// fuzzEndpoints decodes records of (weight byte, key bytes, 0) into at most
// 64 endpoints; weight 0 stays 0 (read as 1).
func fuzzEndpoints(data []byte) []Endpoint {
	var eps []Endpoint
	for len(data) > 1 && len(eps) < 64 {
		w := data[0]
		key, rest, _ := bytes.Cut(data[1:], []byte{0})
		eps = append(eps, Endpoint{Key: string(key), Weight: uint32(w)})
		data = rest
	}
	return eps
}

func hasEmptyKey(eps []Endpoint) bool {
	return slices.ContainsFunc(eps, func(e Endpoint) bool { return e.Key == "" })
}

// FuzzRingHash builds rings from arbitrary endpoint sets and checks that
// Build fails only on empty keys, that the ring holds stats.Size-ish points
// split as the stats say, and that Pick agrees with a linear scan for the
// first point >= hash.
func FuzzRingHash(f *testing.F) {
	f.Add([]byte("\x01127.0.0.1:90\x00\x01127.0.0.1:91\x00\x01127.0.0.1:92\x00"), uint16(12), uint64(0), false)
	f.Fuzz(func(t *testing.T, data []byte, minRing uint16, hash uint64, murmur bool) {
		eps := fuzzEndpoints(data)
		cfg := &RingHashConfig{MinimumRingSize: uint64(minRing%4096) + 1, MaximumRingSize: 4096, HashFunction: HashXX}
		if murmur {
			cfg.HashFunction = HashMurmur2
		}
		pol, err := NewRingHash(*cfg)
		if err != nil {
			t.Fatal(err)
		}
		pk, err := pol.Build(eps)
		if hasEmptyKey(eps) {
			if err == nil {
				t.Fatal("Build accepted an empty key")
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		got := pk.Pick(hash, true)
		if len(eps) == 0 {
			if got != -1 {
				t.Fatalf("empty ring picked %d", got)
			}
			return
		}
		r := pk.(*ringPicker)
		if !slices.IsSorted(r.hashes) {
			t.Fatal("ring is not sorted")
		}
		if n := uint64(len(r.hashes)); n < r.stats.MinHashesPerHost || n > r.stats.Size+uint64(len(eps)) {
			t.Fatalf("ring has %d points, stats %+v", n, r.stats)
		}
		want := int(r.hosts[0])
		for i, h := range r.hashes {
			if h >= hash {
				want = int(r.hosts[i])
				break
			}
		}
		if got != want {
			t.Fatalf("Pick(%d) = %d, linear scan says %d", hash, got, want)
		}
	})
}

// FuzzMaglev builds small tables from arbitrary endpoint sets and checks
// that every slot is filled with a valid index and that reversing the
// endpoints changes no slot's key.
func FuzzMaglev(f *testing.F) {
	f.Add([]byte("\x01127.0.0.1:90\x00\x02127.0.0.1:91\x00"), uint64(5))
	f.Fuzz(func(t *testing.T, data []byte, hash uint64) {
		eps := fuzzEndpoints(data)
		pol, err := NewMaglev(MaglevConfig{TableSize: 251})
		if err != nil {
			t.Fatal(err)
		}
		pk, err := pol.Build(eps)
		if hasEmptyKey(eps) {
			if err == nil {
				t.Fatal("Build accepted an empty key")
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(eps) == 0 {
			if pk.Pick(hash, true) != -1 {
				t.Fatal("empty table picked a host")
			}
			return
		}
		rev := slices.Clone(eps)
		slices.Reverse(rev)
		pk2, err := pol.Build(rev)
		if err != nil {
			t.Fatal(err)
		}
		for h := range uint64(251) {
			a, b := pk.Pick(hash+h, true), pk2.Pick(hash+h, true)
			if a < 0 || a >= len(eps) || b < 0 || b >= len(eps) {
				t.Fatalf("Pick out of range: %d, %d of %d", a, b, len(eps))
			}
			// Hosts with equal keys are interchangeable; compare keys.
			if eps[a].Key != rev[b].Key {
				t.Fatalf("slot for hash %d: %q, reversed %q", hash+h, eps[a].Key, rev[b].Key)
			}
		}
	})
}
