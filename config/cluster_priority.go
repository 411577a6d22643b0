package config

import "fmt"

// DefaultOverprovisioningFactor is Envoy's default overprovisioning factor
// (percent): a level with at least 100/140 ≈ 72% of its hosts healthy
// still takes its whole share.
const DefaultOverprovisioningFactor = 140

// MaxPriority is the lowest priority level an endpoint may name (Envoy's
// proto limit on LocalityLbEndpoints.priority).
const MaxPriority = 128

// Locality is Envoy's core Locality: where an endpoint runs. It is
// comparable, so endpoints group by it directly.
type Locality struct {
	Region  string `yaml:"region" json:"region,omitempty"`
	Zone    string `yaml:"zone" json:"zone,omitempty"`
	SubZone string `yaml:"sub_zone" json:"sub_zone,omitempty"`
}

// String renders the locality as region/zone/sub_zone for errors and logs.
func (l Locality) String() string { return l.Region + "/" + l.Zone + "/" + l.SubZone }

// localityKey is one locality of one priority level.
type localityKey struct {
	priority uint32
	loc      Locality
}

// validatePriorities checks priorities, locality weights and the
// overprovisioning factor: every endpoint of a locality gives the same
// locality_weight (Envoy carries it once per LocalityLbEndpoints, and a
// sluice endpoint list has to say it on each), and locality weighting is
// refused with the hashing policies, which Envoy runs without it.
func (c *Cluster) validatePriorities(path string, errs *Errors) {
	if c.OverprovisioningFactor == 0 {
		errs.Add(Join(path, "overprovisioning_factor"), "must be positive (percent; Envoy's default is 140)")
	}
	if c.LocalityWeightedLB {
		switch c.LBPolicy {
		case "round_robin", "least_request", "random":
		default:
			errs.Add(Join(path, "locality_weighted_lb"), "only with lb_policy round_robin, least_request or random, not %s", c.LBPolicy)
		}
	}
	weights := map[localityKey]uint32{}
	for i, e := range c.Endpoints {
		p := Index(Join(path, "endpoints"), i)
		if e.Priority > MaxPriority {
			errs.Add(Join(p, "priority"), "must be 0..%d, got %d", MaxPriority, e.Priority)
		}
		k := localityKey{e.Priority, e.Locality}
		if w, seen := weights[k]; seen && w != e.LocalityWeight {
			errs.Add(Join(p, "locality_weight"), "%d, but another endpoint of locality %s at priority %d gives %d",
				e.LocalityWeight, e.Locality, e.Priority, w)
			continue
		}
		weights[k] = e.LocalityWeight
	}
}

// Priorities reports the number of priority levels the endpoints use (the
// highest priority plus one; 1 for a cluster without endpoints).
func (c *Cluster) Priorities() int {
	n := 1
	for _, e := range c.Endpoints {
		n = max(n, int(e.Priority)+1)
	}
	return n
}

var _ fmt.Stringer = Locality{}
