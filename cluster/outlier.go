package cluster

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/stats"
)

// Result is what a terminal or pool learned about a host, in the terms of
// Envoy's outlier detection (Upstream::Outlier::Result).
type Result uint8

const (
	// ConnectFailed: the connect was refused, reset or timed out.
	ConnectFailed Result = iota + 1
	// ConnectSuccess: connected, and requests will follow (a pool).
	ConnectSuccess
	// ConnectSuccessFinal: connected, and that is the whole transaction
	// (tcp_proxy); it counts as a success of the host.
	ConnectSuccessFinal
	// LocalOriginTimeout: a request timed out or its connection was reset.
	LocalOriginTimeout
	// ExtOriginRequestFailed: the upstream answered with an error.
	ExtOriginRequestFailed
	// ExtOriginRequestSuccess: the upstream answered well.
	ExtOriginRequestSuccess
)

// hostOutlier is a host's outlier detection state. The consecutive counters
// are updated on the data path with atomics; the ejection fields are guarded
// by the cluster's outlierMu.
type hostOutlier struct {
	cons5xx, consGateway, consLocal atomic.Uint32

	ejected      bool
	ejectedAt    time.Time
	numEjections uint32
}

// reset clears the consecutive counters.
func (o *hostOutlier) reset() {
	o.cons5xx.Store(0)
	o.consGateway.Store(0)
	o.consLocal.Store(0)
}

// outlierKind is one detector; it indexes the per-kind stats.
type outlierKind uint8

const (
	kind5xx outlierKind = iota
	kindGateway
	kindLocalOrigin
	numKinds
)

var kindNames = [numKinds]string{"consecutive_5xx", "consecutive_gateway_failure", "consecutive_local_origin_failure"}

// outlierStats are Envoy's cluster.<c>.outlier_detection.* stats.
type outlierStats struct {
	active                      *stats.Gauge
	total, enforcedTotal, ovflw *stats.Counter
	detected, enforced, legacy  [numKinds]*stats.Counter
}

func newOutlierStats(sc *stats.Scope) *outlierStats {
	od := sc.Sub("outlier_detection")
	s := &outlierStats{
		active: od.Gauge("ejections_active"), total: od.Counter("ejections_total"),
		enforcedTotal: od.Counter("ejections_enforced_total"), ovflw: od.Counter("ejections_overflow"),
	}
	for k, n := range kindNames {
		s.detected[k] = od.Counter("ejections_detected_" + n)
		s.enforced[k] = od.Counter("ejections_enforced_" + n)
		s.legacy[k] = od.Counter("ejections_" + n)
	}
	return s
}

// detector is a cluster's outlier detection for one config. It is replaced on
// reload; the per-host state it acts on lives in the hosts and carries over.
type detector struct {
	c   *Cluster
	cfg *config.OutlierDetection
	now func() time.Time
}

// Report tells outlier detection about one outcome with h. It is cheap
// (atomic adds) unless it triggers an ejection; safe for concurrent use.
func (h *Host) Report(r Result) {
	if h.cluster == nil {
		return
	}
	if d := h.cluster.outlier.Load(); d != nil {
		d.report(h, r)
	}
}

func (d *detector) report(h *Host, r Result) {
	o, cfg := &h.od, d.cfg
	split := cfg.SplitExternalLocalOriginErrors
	switch r {
	case ConnectSuccess:
		if split {
			o.consLocal.Store(0)
		}
	case ConnectSuccessFinal, ExtOriginRequestSuccess:
		if split && r == ConnectSuccessFinal {
			o.consLocal.Store(0)
			return
		}
		o.cons5xx.Store(0)
		o.consGateway.Store(0)
	case ConnectFailed, LocalOriginTimeout:
		if split {
			d.bump(h, &o.consLocal, cfg.ConsecutiveLocalOriginFailure, kindLocalOrigin)
			return
		}
		// Not split: Envoy maps these to 503/504, which are both 5xx and
		// gateway failures.
		d.bump(h, &o.consGateway, cfg.ConsecutiveGatewayFailure, kindGateway)
		d.bump(h, &o.cons5xx, cfg.Consecutive5xx, kind5xx)
	case ExtOriginRequestFailed:
		d.bump(h, &o.cons5xx, cfg.Consecutive5xx, kind5xx)
	}
}

// bump counts one failure; reaching the threshold resets the counter and
// asks for an ejection.
func (d *detector) bump(h *Host, n *atomic.Uint32, threshold uint32, k outlierKind) {
	if threshold == 0 || n.Add(1) < threshold {
		return
	}
	n.Store(0)
	d.eject(h, k)
}

// enforcing returns the enforcement percentage of kind k.
func (d *detector) enforcing(k outlierKind) uint32 {
	switch k {
	case kind5xx:
		return d.cfg.EnforcingConsecutive5xx
	case kindGateway:
		return d.cfg.EnforcingConsecutiveGatewayFailure
	}
	return d.cfg.EnforcingConsecutiveLocalOriginFailure
}

// eject ejects h if enforcement and max_ejection_percent allow.
func (d *detector) eject(h *Host, k outlierKind) {
	c, st := d.c, d.c.stats.outlier
	c.outlierMu.Lock()
	st.detected[k].Inc()
	st.legacy[k].Inc()
	st.total.Inc()
	if h.od.ejected || rand.Uint32N(100) >= d.enforcing(k) {
		c.outlierMu.Unlock()
		return
	}
	hosts := c.snap.Load().all
	ejected := countEjected(hosts)
	// Envoy's check: eject while the ejected share is below the maximum, so
	// the first ejection of a small cluster goes through.
	if uint64(ejected)*100 >= uint64(d.cfg.MaxEjectionPercent)*uint64(len(hosts)) {
		st.ovflw.Inc()
		c.outlierMu.Unlock()
		return
	}
	h.od.ejected, h.od.ejectedAt = true, d.now()
	h.od.numEjections++
	st.enforced[k].Inc()
	st.enforcedTotal.Inc()
	st.active.Set(int64(ejected + 1))
	c.outlierMu.Unlock()
	c.log.Info("outlier detection ejected host", "host", h.addr, "detector", kindNames[k], "times", h.od.numEjections)
	h.SetFlag(FailedOutlierCheck, true)
}

func countEjected(hosts []*Host) int {
	n := 0
	for _, h := range hosts {
		if h.od.ejected {
			n++
		}
	}
	return n
}

// ejectionTime is base × times ejected, capped by max(base, max_ejection_time).
func (d *detector) ejectionTime(times uint32) time.Duration {
	base := d.cfg.BaseEjectionTime.D()
	limit := max(base, d.cfg.MaxEjectionTime.D())
	if times == 0 || base*time.Duration(times)/time.Duration(times) != base {
		return limit // overflow guard
	}
	return min(base*time.Duration(times), limit)
}

// sweep runs every interval: it returns hosts whose ejection time is over,
// and lowers the multiplier of hosts that stayed in.
func (d *detector) sweep() {
	c := d.c
	now := d.now()
	var back []*Host
	c.outlierMu.Lock()
	hosts := c.snap.Load().all
	for _, h := range hosts {
		o := &h.od
		switch {
		case o.ejected && !now.Before(o.ejectedAt.Add(d.ejectionTime(o.numEjections))):
			o.ejected = false
			o.reset()
			back = append(back, h)
		case !o.ejected && o.numEjections > 0:
			o.numEjections--
		}
	}
	c.stats.outlier.active.Set(int64(countEjected(hosts)))
	c.outlierMu.Unlock()
	for _, h := range back {
		c.log.Info("outlier detection returned host", "host", h.addr)
		h.SetFlag(FailedOutlierCheck, false)
	}
}

// unejectOnHealthCheck returns h after a passing active check when the
// config says so (successful_active_health_check_uneject_host).
func (d *detector) unejectOnHealthCheck(h *Host) {
	if !d.cfg.SuccessfulActiveHealthCheckUnejectHost {
		return
	}
	c := d.c
	c.outlierMu.Lock()
	was := h.od.ejected
	h.od.ejected = false
	if was {
		h.od.reset()
		c.stats.outlier.active.Set(int64(countEjected(c.snap.Load().all)))
	}
	c.outlierMu.Unlock()
	if was {
		h.SetFlag(FailedOutlierCheck, false)
	}
}

// run sweeps every interval until ctx ends.
func (d *detector) run(ctx context.Context, wg *sync.WaitGroup) {
	defer wg.Done()
	t := time.NewTicker(d.cfg.Interval.D())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.sweep()
		}
	}
}

// clearOutlier forgets every ejection (outlier detection was turned off).
func (c *Cluster) clearOutlier() {
	c.outlierMu.Lock()
	hosts := c.snap.Load().all
	for _, h := range hosts {
		h.od.reset()
		h.od.ejected, h.od.numEjections = false, 0
	}
	c.stats.outlier.active.Set(0)
	c.outlierMu.Unlock()
	for _, h := range hosts {
		h.SetFlag(FailedOutlierCheck, false)
	}
}
