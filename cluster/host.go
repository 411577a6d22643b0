package cluster

import (
	"net"
	"strings"
	"sync/atomic"
)

// HealthFlag is one reason a host is not healthy. A host with no flags set is
// healthy. The names match Envoy's /clusters output.
type HealthFlag uint32

const (
	// FailedActiveHC is set by active health checking.
	FailedActiveHC HealthFlag = 1 << iota
	// FailedOutlierCheck is set while outlier detection has the host ejected.
	FailedOutlierCheck
	// PendingDynamicRemoval is set on hosts that left discovery and are
	// draining their connections; they are dropped when the last one closes.
	PendingDynamicRemoval
)

// Host is one upstream address of a cluster. Host values are stable across
// config reloads and DNS refreshes for as long as the address stays in the
// cluster, so their counters carry on. All fields are safe for concurrent use.
type Host struct {
	addr    string
	weight  atomic.Uint32
	flags   atomic.Uint32
	cluster *Cluster
	// dialAddr is what logical_dns resolved addr to; nil means dial addr.
	dialAddr atomic.Pointer[string]
	// name is the endpoint's hostname (host_name.go).
	name atomic.Pointer[string]
	od   hostOutlier
	// placement is the host's priority and locality (priority.go); nil
	// means priority 0 in no locality.
	placement atomic.Pointer[placement]
	// hcDone is set once an active health check has judged the host.
	hcDone atomic.Bool

	// Per-host stats, shown by /clusters.
	CxActive      atomic.Int64
	CxTotal       atomic.Uint64
	CxConnectFail atomic.Uint64
	// RqActive is also the active-request count least_request balances on.
	RqActive  atomic.Int64
	RqTotal   atomic.Uint64
	RqError   atomic.Uint64
	RqSuccess atomic.Uint64
}

func newHost(c *Cluster, addr string, weight uint32) *Host {
	h := &Host{addr: addr, cluster: c}
	h.name.Store(new(string))
	h.weight.Store(weight)
	return h
}

// Address returns "host:port" as configured (a name for logical_dns).
func (h *Host) Address() string { return h.addr }

// DialAddress returns the address connects go to: the resolved address of a
// logical_dns host, or Address.
func (h *Host) DialAddress() string {
	if p := h.dialAddr.Load(); p != nil {
		return *p
	}
	return h.addr
}

// hostname is the DNS name of a logical_dns host, else "".
func (h *Host) hostname() string {
	if h.dialAddr.Load() == nil {
		return ""
	}
	name, _, _ := net.SplitHostPort(h.addr)
	return name
}

// Weight returns the load-balancing weight.
func (h *Host) Weight() uint32 { return h.weight.Load() }

// Healthy reports whether no health flag is set.
func (h *Host) Healthy() bool { return h.flags.Load() == 0 }

// Flags returns the set health flags.
func (h *Host) Flags() HealthFlag { return HealthFlag(h.flags.Load()) }

// Cluster returns the cluster the host belongs to.
func (h *Host) Cluster() *Cluster { return h.cluster }

// SetFlag sets or clears f and, when health changed, makes the cluster
// publish a new picker and tell its subscribers. It reports whether anything
// changed.
func (h *Host) SetFlag(f HealthFlag, on bool) bool {
	for {
		old := h.flags.Load()
		nw := old &^ uint32(f)
		if on {
			nw = old | uint32(f)
		}
		if nw == old {
			return false
		}
		if h.flags.CompareAndSwap(old, nw) {
			if (old == 0) != (nw == 0) && h.cluster != nil {
				h.cluster.rebuild()
				kind := HostHealthy
				if nw != 0 {
					kind = HostUnhealthy
				}
				h.cluster.notify(HostEvent{Host: h, Kind: kind})
			}
			return true
		}
	}
}

// BeginRequest counts one request sent to h (rq_total, rq_active); request
// terminals call it, and EndRequest when the answer is in.
func (h *Host) BeginRequest() {
	h.RqTotal.Add(1)
	h.RqActive.Add(1)
	if h.cluster != nil {
		h.cluster.stats.RqTotal.Inc()
		h.cluster.stats.RqActive.Inc()
	}
}

// EndRequest ends a request begun with BeginRequest. ok=false means the
// upstream answered with an error (5xx-like), which counts rq_error and is
// reported to outlier detection; local failures (reset, timeout) should be
// reported with Report as well.
func (h *Host) EndRequest(ok bool) {
	h.RqActive.Add(-1)
	if h.cluster != nil {
		h.cluster.stats.RqActive.Dec()
	}
	if ok {
		h.RqSuccess.Add(1)
		h.Report(ExtOriginRequestSuccess)
	} else {
		h.RqError.Add(1)
		h.Report(ExtOriginRequestFailed)
		if h.cluster != nil {
			h.cluster.redisFailed()
		}
	}
}

// EndRequestLocal ends a request begun with BeginRequest that failed on
// sluice's side of the wire (reset, timeout, connection lost): it counts
// rq_error and reports LocalOriginTimeout, not an upstream error answer.
func (h *Host) EndRequestLocal() {
	h.RqActive.Add(-1)
	if h.cluster != nil {
		h.cluster.stats.RqActive.Dec()
	}
	h.RqError.Add(1)
	h.Report(LocalOriginTimeout)
}

// String renders the flags as Envoy's /clusters does: "healthy" or
// "/failed_active_hc/failed_outlier_check".
func (f HealthFlag) String() string {
	if f == 0 {
		return "healthy"
	}
	var b strings.Builder
	if f&FailedActiveHC != 0 {
		b.WriteString("/failed_active_hc")
	}
	if f&FailedOutlierCheck != 0 {
		b.WriteString("/failed_outlier_check")
	}
	if f&PendingDynamicRemoval != 0 {
		b.WriteString("/pending_dynamic_removal")
	}
	return b.String()
}
