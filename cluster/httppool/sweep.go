package httppool

import "time"

// retireAll stops new requests on every connection: idle ones close now,
// busy ones with their last request, or at once when cut. gone also fails
// the requests waiting for this host (they pick another).
func (hp *hostPool) retireAll(gone, cut bool) {
	hp.mu.Lock()
	if gone {
		hp.gone = true
	}
	var closing []*conn
	keep := hp.conns[:0]
	for _, c := range hp.conns {
		c.retiring = true
		if c.active == 0 || cut {
			c.closed = true
			closing = append(closing, c)
			continue
		}
		keep = append(keep, c)
	}
	hp.conns = keep
	hp.mu.Unlock()
	for _, c := range closing {
		c.cc.Close()
	}
	hp.notify()
}

// sweep closes idle, expired and broken connections and opens HTTP/2 ones
// up to the minimum.
func (hp *hostPool) sweep(s *settings, now time.Time) {
	st := hp.p.st
	hp.mu.Lock()
	changed := hp.pruneLocked()
	var closing []*conn
	live := 0
	for _, c := range hp.conns {
		if s.maxDur > 0 && !c.retiring && now.Sub(c.born) >= s.maxDur {
			c.retiring = true
			st.cxMaxDurReached.Inc()
		}
		if !c.retiring {
			live++
		}
	}
	keep := hp.conns[:0]
	for _, c := range hp.conns {
		idle := s.idle > 0 && c.active == 0 && now.Sub(c.lastUsed) >= s.idle && (!c.h2 || live > s.minConns)
		if idle && !c.retiring {
			st.cxIdleTimeout.Inc()
			live--
		}
		if (c.retiring || idle) && c.active == 0 {
			c.closed = true
			closing = append(closing, c)
			continue
		}
		keep = append(keep, c)
	}
	clear(hp.conns[len(keep):])
	hp.conns = keep
	for hp.kind.mayBeH2() && !hp.gone && hp.lastErr == nil && hp.h.Healthy() && live+hp.dialing < s.minConns && hp.roomLocked(s) {
		hp.dialing++
		hp.p.wg.Add(1)
		go hp.dial(s)
	}
	hp.mu.Unlock()
	for _, c := range closing {
		c.cc.Close()
	}
	if changed || len(closing) > 0 {
		hp.notify()
	}
}
