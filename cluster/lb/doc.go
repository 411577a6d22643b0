// Package lb holds sluice's load balancers: round_robin, random,
// least_request, ring_hash and maglev. A Policy builds an immutable Picker
// from a snapshot of healthy endpoints; the cluster publishes a new Picker
// whenever membership, weight or health changes, and Pick never blocks or
// allocates.
//
// ring_hash and maglev reproduce Envoy's algorithms bit for bit (ring_hash_lb.cc
// and maglev_lb.cc): the same xxHash64 inputs, the same floating-point weight
// normalisation, the same fill order, so a key lands on the same host behind
// sluice as behind Envoy. The tests pin Envoy's own unit-test vectors.
//
// Why hand-written: no Go library implements Envoy's ring construction
// (running-sum hash counts, "<key>_<i>" inputs, ketama search) or Envoy's
// weighted maglev fill; generic consistent-hash packages place keys
// elsewhere, which would move every key on migration. Hashing itself is
// github.com/cespare/xxhash/v2. The least_request EDF and the smooth round
// robin schedule are small enough that a dependency would cost more than it
// saves, and both need to be allocation-free on the pick path.
package lb
