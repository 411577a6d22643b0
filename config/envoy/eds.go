package envoy

import (
	"net"
	"net/netip"
	"strconv"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/sluice-proxy/sluice/config"
)

// Endpoints checks a ClusterLoadAssignment against the loader's tables and
// validation rules, as in a cluster's load_assignment, and returns its
// endpoints in sluice's form. The xDS client uses it to move the endpoints
// of a running EDS cluster without translating the whole config again.
// Problems carry paths inside the assignment ("endpoints[0].lb_endpoints[1].load_balancing_weight").
func Endpoints(cla *endpointv3.ClusterLoadAssignment) ([]config.Endpoint, error) {
	errs := &config.Errors{File: "eds"}
	t := newTranslator(errs)
	t.check(cla.ProtoReflect(), "")
	if err := errs.Err(); err != nil {
		return nil, err
	}
	var out []config.Endpoint
	for i, lle := range cla.GetEndpoints() {
		for j, lbe := range lle.GetLbEndpoints() {
			p := config.Index(config.Join(config.Index("endpoints", i), "lb_endpoints"), j)
			sa := lbe.GetEndpoint().GetAddress().GetSocketAddress()
			if sa == nil {
				errs.Add(config.Join(p, "endpoint.address"), "socket_address is required: sluice listens and connects over TCP only")
				continue
			}
			e := config.Endpoint{Address: net.JoinHostPort(sa.GetAddress(), strconv.Itoa(int(sa.GetPortValue()))), Weight: 1}
			if w := lbe.GetLoadBalancingWeight(); w != nil {
				e.Weight = w.GetValue()
			}
			placeEndpoint(&e, lle)
			e.Validate(p, errs)
			if _, err := netip.ParseAddr(sa.GetAddress()); err != nil {
				errs.Add(config.Join(p, "endpoint.address"), "an EDS cluster needs IP addresses, got %q", sa.GetAddress())
			}
			out = append(out, e)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
