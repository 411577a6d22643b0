package envoy

import (
	"reflect"
	"strings"
	"testing"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/sluice-proxy/sluice/config"
)

const priorityBootstrap = `
static_resources:
  clusters:
  - name: c
    lb_policy: LEAST_REQUEST
    common_lb_config:
      locality_weighted_lb_config: {}
      healthy_panic_threshold: {value: 30}
    load_assignment:
      cluster_name: c
      policy: {overprovisioning_factor: 120, weighted_priority_health: true}
      endpoints:
      - locality: {region: eu, zone: a}
        load_balancing_weight: 3
        lb_endpoints:
        - endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}
        - endpoint: {address: {socket_address: {address: 10.0.0.2, port_value: 80}}}
          load_balancing_weight: 5
      - locality: {region: eu, zone: b}
        load_balancing_weight: 1
        lb_endpoints:
        - endpoint: {address: {socket_address: {address: 10.0.1.1, port_value: 80}}}
      - priority: 1
        lb_endpoints:
        - endpoint: {address: {socket_address: {address: 10.0.2.1, port_value: 80}}}
`

// TestTranslatePriorities: priorities, localities, locality weights and
// the assignment's policy land on sluice's endpoints and cluster, and
// convert back to Envoy's grouping and read the same.
func TestTranslatePriorities(t *testing.T) {
	cfg, _ := parse(t, priorityBootstrap)
	c := cfg.Cluster("c")
	eu := func(z string) config.Locality { return config.Locality{Region: "eu", Zone: z} }
	want := []config.Endpoint{
		{Address: "10.0.0.1:80", Weight: 1, Locality: eu("a"), LocalityWeight: 3},
		{Address: "10.0.0.2:80", Weight: 5, Locality: eu("a"), LocalityWeight: 3},
		{Address: "10.0.1.1:80", Weight: 1, Locality: eu("b"), LocalityWeight: 1},
		{Address: "10.0.2.1:80", Weight: 1, Priority: 1},
	}
	if !reflect.DeepEqual(c.Endpoints, want) {
		t.Fatalf("endpoints\n%+v\nwant\n%+v", c.Endpoints, want)
	}
	if c.OverprovisioningFactor != 120 || !c.WeightedPriorityHealth || !c.LocalityWeightedLB || c.HealthyPanicThreshold != 30 {
		t.Fatalf("cluster %+v", c)
	}
	ey, err := MarshalYAML(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"priority: 1", "overprovisioning_factor: 120", "locality_weighted_lb_config: {}", "zone: b"} {
		if !strings.Contains(string(ey), s) {
			t.Errorf("Envoy form lacks %q:\n%s", s, ey)
		}
	}
	back, _ := parse(t, string(ey))
	if got := back.Cluster("c"); !reflect.DeepEqual(got.Endpoints, want) || got.OverprovisioningFactor != 120 || !got.LocalityWeightedLB {
		t.Fatalf("round trip: %+v", got)
	}
}

// TestEndpointsPlaces: the fast EDS path (Endpoints, AssignmentPolicy)
// reads priorities and localities as the full translation does.
func TestEndpointsPlaces(t *testing.T) {
	var cla endpointv3.ClusterLoadAssignment
	const js = `{"clusterName": "c", "policy": {"overprovisioningFactor": 200},
	  "endpoints": [
	    {"locality": {"zone": "a"}, "loadBalancingWeight": 2, "lbEndpoints": [{"endpoint": {"address": {"socketAddress": {"address": "10.0.0.1", "portValue": 1}}}}]},
	    {"priority": 2, "lbEndpoints": [{"endpoint": {"address": {"socketAddress": {"address": "10.0.0.2", "portValue": 1}}}}]}]}`
	if err := protojson.Unmarshal([]byte(js), &cla); err != nil {
		t.Fatal(err)
	}
	eps, err := Endpoints(&cla)
	if err != nil {
		t.Fatal(err)
	}
	want := []config.Endpoint{
		{Address: "10.0.0.1:1", Weight: 1, Locality: config.Locality{Zone: "a"}, LocalityWeight: 2},
		{Address: "10.0.0.2:1", Weight: 1, Priority: 2},
	}
	if !reflect.DeepEqual(eps, want) {
		t.Fatalf("%+v", eps)
	}
	if f, w := AssignmentPolicy(&cla); f != 200 || w {
		t.Fatalf("policy %d %v", f, w)
	}
}
