package cluster

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/guard"
	"github.com/sluice-proxy/sluice/stats"
)

// Active health checking follows Envoy's semantics:
//   - A host added to a cluster with health checks starts with
//     FailedActiveHC and is checked at once (after initial_jitter); its first
//     passing check marks it healthy (one success is enough the first time).
//     Manager.Apply waits for that first round, as Envoy's cluster warming
//     does, so a dead host never gets traffic at start-up.
//   - A network failure (refused, reset, timeout) marks a healthy host
//     unhealthy after unhealthy_threshold in a row; a wrong answer (HTTP
//     status not expected, Redis error) marks it unhealthy at once.
//   - An unhealthy host needs healthy_threshold passes in a row.
//   - With several checks, every check must pass.

// hcStats are cluster.<c>.health_check.*; shared by all of a cluster's checks.
type hcStats struct {
	attempt, success, failure, networkFailure, passiveFailure, verifyCluster *stats.Counter
	healthy                                                                  *stats.Gauge
}

func newHCStats(sc *stats.Scope) *hcStats {
	hc := sc.Sub("health_check")
	return &hcStats{
		attempt: hc.Counter("attempt"), success: hc.Counter("success"), failure: hc.Counter("failure"),
		networkFailure: hc.Counter("network_failure"),
		// passive_failure and verify_cluster exist for Envoy's stat set;
		// sluice has no passive health events nor service name checks yet.
		passiveFailure: hc.Counter("passive_failure"), verifyCluster: hc.Counter("verify_cluster"),
		healthy: hc.Gauge("healthy"),
	}
}

// healthChecker runs one cluster's health checks: one session (goroutine) per
// host and check. It is replaced when the cluster's checks change.
type healthChecker struct {
	c      *Cluster
	checks []config.HealthCheck
	probes []prober
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex // guards sessions and each session's state
	sessions map[*Host][]*hcSession
}

// hcSession checks one host with one check.
type hcSession struct {
	hc      *healthChecker
	h       *Host
	check   *config.HealthCheck
	probe   prober
	cancel  context.CancelFunc
	ready   chan struct{} // closed after the first check
	failed  bool
	first   bool
	healthy uint32 // consecutive passes while failed
	bad     uint32 // consecutive network failures while healthy
}

func newHealthChecker(c *Cluster, checks []config.HealthCheck) *healthChecker {
	ctx, cancel := context.WithCancel(context.Background())
	hc := &healthChecker{c: c, checks: checks, ctx: ctx, cancel: cancel, sessions: map[*Host][]*hcSession{}}
	for i := range checks {
		hc.probes = append(hc.probes, newProber(c, &checks[i]))
	}
	return hc
}

// sync starts sessions for new hosts and stops those of hosts that left (or
// are draining). It returns channels closed after each new session's first
// check.
func (hc *healthChecker) sync(hosts []*Host) []<-chan struct{} {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	want := make(map[*Host]bool, len(hosts))
	var ready []<-chan struct{}
	for _, h := range hosts {
		if h.Flags()&PendingDynamicRemoval != 0 {
			continue
		}
		want[h] = true
		if hc.sessions[h] != nil {
			continue
		}
		// A host already checked healthy by a previous checker stays
		// healthy; a new (or unhealthy) one must pass first.
		failed := h.Flags()&FailedActiveHC != 0 || !h.hcDone.Load()
		if failed {
			h.SetFlag(FailedActiveHC, true)
		}
		for i := range hc.checks {
			ctx, cancel := context.WithCancel(hc.ctx)
			s := &hcSession{hc: hc, h: h, check: &hc.checks[i], probe: hc.probes[i], cancel: cancel,
				ready: make(chan struct{}), failed: failed, first: failed}
			hc.sessions[h] = append(hc.sessions[h], s)
			ready = append(ready, s.ready)
			hc.wg.Add(1)
			go s.run(ctx)
		}
	}
	for h, ss := range hc.sessions {
		if !want[h] {
			for _, s := range ss {
				s.cancel()
			}
			delete(hc.sessions, h)
		}
	}
	hc.publishHealthy()
	return ready
}

// stop ends every session and waits for them.
func (hc *healthChecker) stop() {
	hc.cancel()
	hc.wg.Wait()
}

// publishHealthy sets the healthy gauge; hc.mu is held.
func (hc *healthChecker) publishHealthy() {
	n := 0
	for h := range hc.sessions {
		if h.Flags()&FailedActiveHC == 0 {
			n++
		}
	}
	hc.c.stats.hc.healthy.Set(int64(n))
}

func (s *hcSession) run(ctx context.Context) {
	defer s.hc.wg.Done()
	delay := jitter(s.check.InitialJitter.D())
	t := time.NewTimer(delay)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.closeReady()
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, s.check.Timeout.D())
		err := s.probeContained(pctx)
		cancel()
		if ctx.Err() != nil {
			s.closeReady()
			return
		}
		s.record(err)
		s.closeReady()
		t.Reset(s.check.Interval.D() + jitter(s.check.IntervalJitter.D()))
	}
}

// probeContained runs one probe; a panic in it (a reply parser fed by the
// host) is logged, counted in server.contained_panics and fails the check,
// instead of ending the process.
func (s *hcSession) probeContained(ctx context.Context) (err error) {
	defer func() {
		if v := recover(); v != nil {
			p := guard.Recovered(v)
			s.hc.c.guard.Contain(p, "health check failed", "cluster", s.hc.c.Name(), "host", s.h.Address())
			err = p
		}
	}()
	return s.probe.probe(ctx, s.h)
}

func (s *hcSession) closeReady() {
	select {
	case <-s.ready:
	default:
		close(s.ready)
	}
}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

// record applies one check's outcome; err is nil for a pass.
func (s *hcSession) record(err error) {
	st := s.hc.c.stats.hc
	st.attempt.Inc()
	hc := s.hc
	hc.mu.Lock()
	first := s.first
	s.first = false
	if err == nil {
		st.success.Inc()
		s.bad = 0
		if s.failed {
			s.healthy++
			if first || s.healthy >= s.check.HealthyThreshold {
				s.failed, s.healthy = false, 0
			}
		}
	} else {
		st.failure.Inc()
		network := isNetworkFailure(err)
		if network {
			st.networkFailure.Inc()
		}
		s.healthy = 0
		if !s.failed {
			s.bad++
			if !network || s.bad >= s.check.UnhealthyThreshold {
				s.failed, s.bad = true, 0
			}
		}
	}
	anyFailed := false
	for _, o := range hc.sessions[s.h] {
		anyFailed = anyFailed || o.failed
	}
	live := hc.sessions[s.h] != nil
	if live {
		s.h.hcDone.Store(true)
		if s.h.SetFlag(FailedActiveHC, anyFailed) {
			hc.c.log.Info("health check changed host", "host", s.h.addr, "healthy", !anyFailed, "err", err)
		}
		hc.publishHealthy()
	}
	hc.mu.Unlock()
	if err == nil && live {
		if d := hc.c.outlier.Load(); d != nil {
			d.unejectOnHealthCheck(s.h)
		}
	}
}

// readyAll returns the first-check channels of every session.
func (hc *healthChecker) readyAll() []<-chan struct{} {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	var out []<-chan struct{}
	for _, ss := range hc.sessions {
		for _, s := range ss {
			out = append(out, s.ready)
		}
	}
	return out
}
