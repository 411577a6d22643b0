package httppool

import (
	"context"

	"github.com/sluice-proxy/sluice/cluster"
)

// HostFilter re-picks a host Reject refuses, up to Picks picks in all
// (the last pick is kept even if refused): Envoy's retry host predicates
// with host_selection_retry_max_attempts.
type HostFilter struct {
	Reject func(*cluster.Host) bool
	Picks  int
}

type hostFilterKey struct{}

// WithHostFilter returns ctx carrying f for RoundTrip's host pick.
func WithHostFilter(ctx context.Context, f HostFilter) context.Context {
	return context.WithValue(ctx, hostFilterKey{}, f)
}

// pick is the cluster's pick under the request's HostFilter, if any.
func (p *Pool) pick(ctx context.Context, hash uint64, hasHash bool) *cluster.Host {
	h := p.c.Pick(hash, hasHash)
	f, ok := ctx.Value(hostFilterKey{}).(HostFilter)
	if !ok || f.Reject == nil {
		return h
	}
	for i := 1; h != nil && i < f.Picks && f.Reject(h); i++ {
		h = p.c.Pick(hash, hasHash)
	}
	return h
}
