package httppool

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
)

// errHostGone: the host left the cluster (or the pool closed) while a
// request waited for one of its connections; RoundTrip picks again.
var errHostGone = errors.New("upstream host left the cluster")

// hostKey names the connections of one kind to one host (with auto_sni,
// for one SNI).
type hostKey struct {
	h   *cluster.Host
	k   kind
	sni string
}

// hostPool holds one host's connections of one kind. mu guards everything
// but changed, which has its own lock so that net/http's state hooks
// (which may run inside ClientConn calls made under mu) can signal.
type hostPool struct {
	p    *Pool
	h    *cluster.Host
	kind kind
	sni  string // auto_sni's name for the cluster's TLS; "" for none

	mu    sync.Mutex
	conns []*conn
	// free holds idle HTTP/1.1 connections, the most recently used last,
	// so that a request takes one without scanning conns (a host with
	// hundreds of busy connections made the scan and its per-connection
	// lock the pool's main cost). Entries may be stale: checked when taken.
	free    []*conn
	dialing int
	waiting int
	gone    bool
	lastErr error // the last dial's error, nil after a success
	failGen uint64

	cmu     sync.Mutex
	changed chan struct{} // closed and replaced on every change
}

// waitCh returns the channel the next change closes.
func (hp *hostPool) waitCh() <-chan struct{} {
	hp.cmu.Lock()
	defer hp.cmu.Unlock()
	return hp.changed
}

// notify wakes every request waiting for a connection.
func (hp *hostPool) notify() {
	hp.cmu.Lock()
	close(hp.changed)
	hp.changed = make(chan struct{})
	hp.cmu.Unlock()
}

// acquire returns a connection with a slot reserved for one request,
// dialing or waiting (under max_pending_requests) as the spreading rule says.
func (hp *hostPool) acquire(ctx context.Context, s *settings) (*conn, error) {
	st := hp.p.st
	pend := &hp.p.c.Breakers(cluster.PriorityDefault).PendingRequests
	pending := false
	defer func() {
		if pending {
			pend.Release()
			st.pendingActive.Dec()
		}
	}()
	hp.mu.Lock()
	for {
		if hp.gone {
			hp.mu.Unlock()
			return nil, errHostGone
		}
		ch := hp.waitCh() // before looking: a change from now on wakes us
		c, wait, dial := hp.pickLocked(s)
		if c != nil {
			c.active++
			c.requests++
			c.lastUsed = time.Now()
			if s.maxReq > 0 && c.requests >= s.maxReq {
				c.retiring = true
				st.cxMaxRequests.Inc()
			}
			hp.preconnectLocked(s)
			hp.mu.Unlock()
			return c, nil
		}
		if dial {
			hp.dialing++
			hp.p.wg.Add(1)
			go hp.dial(s)
		} else if !wait {
			err := hp.lastErr
			if err == nil {
				cx := &hp.p.c.Breakers(cluster.PriorityDefault).Connections
				err = fmt.Errorf("cluster %s: %w (max_connections %d)", hp.p.c.Name(), cluster.ErrOverflow, cx.Max())
			}
			hp.mu.Unlock()
			return nil, err
		}
		if !pending {
			if !pend.TryAcquire() {
				hp.mu.Unlock()
				return nil, fmt.Errorf("cluster %s: %w (max_pending_requests %d)", hp.p.c.Name(), cluster.ErrOverflow, pend.Max())
			}
			pending = true
			st.pendingTotal.Inc()
			st.pendingActive.Inc()
		}
		gen := hp.failGen
		hp.waiting++
		hp.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			hp.mu.Lock()
			hp.waiting--
			hp.mu.Unlock()
			return nil, ctx.Err()
		}
		hp.mu.Lock()
		hp.waiting--
		if hp.failGen != gen && len(hp.conns) == 0 && hp.dialing == 0 && hp.lastErr != nil {
			err := hp.lastErr
			hp.mu.Unlock()
			return nil, err
		}
	}
}

// pickLocked applies the spreading rule: a new stream goes on the usable
// connection with the fewest outstanding streams; among equals, on the one
// whose recent requests finished fastest (its server process is the least
// busy; the estimate decays while a connection is left alone, so a slow
// moment is not held against it for long). When no connection is below
// its share of streams and another may open, the caller waits (wait) for a
// connection, dialing one (dial) unless enough dials are in flight for the
// requests already waiting.
func (hp *hostPool) pickLocked(s *settings) (c *conn, wait, dial bool) {
	for len(hp.free) > 0 {
		c := hp.free[len(hp.free)-1]
		hp.free[len(hp.free)-1] = nil
		hp.free = hp.free[:len(hp.free)-1]
		if c.closed || c.retiring || c.active != 0 {
			continue
		}
		if c.cc.Reserve() == nil {
			return c, false, false
		}
	}
	hp.pruneLocked()
	defer func() {
		for _, x := range hp.conns {
			x.skip = false
		}
	}()
	mean := hp.meanLatLocked()
	now := time.Now()
	for {
		var best *conn
		var bestLat float64
		for _, c := range hp.conns {
			if c.retiring || c.skip || c.active >= c.limit(s) {
				continue
			}
			lat := c.latNow(now, mean)
			if best == nil || c.active < best.active || (c.active == best.active && lat < bestLat) {
				best, bestLat = c, lat
			}
		}
		full := best == nil || (best.h2 && best.active >= s.share)
		if full && hp.roomLocked(s) {
			return nil, true, hp.dialing <= hp.waiting
		}
		if full && hp.dialing > 0 {
			return nil, true, false // a connection is coming: better than going over the share
		}
		if best == nil {
			return nil, len(hp.conns) > 0 || hp.dialing > 0, false
		}
		if best.cc.Reserve() == nil {
			return best, false, false
		}
		best.skip = true // full by the server's count, or closing
	}
}

// meanLatLocked is the mean request time of the measured connections (the
// scale latNow decays by); 1 when none is.
func (hp *hostPool) meanLatLocked() float64 {
	sum, n := 0.0, 0
	for _, c := range hp.conns {
		if c.lat > 0 {
			sum += c.lat
			n++
		}
	}
	if n == 0 {
		return 1
	}
	return sum / float64(n)
}

// preconnectLocked opens HTTP/2 connections in the background until those
// open and being dialed hold per_upstream_preconnect_ratio times the
// outstanding streams at their share. Spare connections are what make
// server processes behind one SO_REUSEPORT port all likely to get one when
// there are fewer streams than processes would need.
func (hp *hostPool) preconnectLocked(s *settings) {
	if !hp.kind.mayBeH2() || s.preconnect <= 1 || hp.gone {
		return
	}
	streams, open := hp.waiting, hp.dialing
	for _, c := range hp.conns {
		streams += c.active
		if !c.retiring {
			open++
		}
	}
	want := int(math.Ceil(s.preconnect * float64(streams) / float64(s.share)))
	for open < want && hp.roomLocked(s) {
		hp.dialing++
		open++
		hp.p.wg.Add(1)
		go hp.dial(s)
	}
}

// roomLocked: another connection to the host may open, counting those
// being dialed.
func (hp *hostPool) roomLocked(s *settings) bool {
	cx := &hp.p.c.Breakers(cluster.PriorityDefault).Connections
	if cx.Count()+int64(hp.dialing) >= cx.Max() {
		return false
	}
	if !hp.kind.mayBeH2() {
		return true
	}
	open := hp.dialing
	for _, c := range hp.conns {
		if !c.retiring {
			open++
		}
	}
	return open < s.maxConns
}

// pruneLocked drops connections net/http found broken (closed by the
// server, reset), whose UpstreamConn closed with them, and retires HTTP/2
// connections that stopped taking streams (a GOAWAY): net/http reports those
// only as Available 0, so one with fewer streams in flight than it was seen
// to hold is taken as closing. It reports whether anything changed.
func (hp *hostPool) pruneLocked() bool {
	changed := false
	keep := hp.conns[:0]
	for _, c := range hp.conns {
		if c.cc.Err() != nil && c.active == 0 {
			c.closed, changed = true, true
			hp.p.wg.Add(1)
			go func() { defer hp.p.wg.Done(); c.cc.Close() }() // never under mu: closing can call back into the cluster
			continue
		}
		if c.h2 && !c.retiring {
			avail, inFlight := c.cc.Available(), c.cc.InFlight()
			c.capSeen = max(c.capSeen, avail+inFlight)
			if avail == 0 && inFlight < c.capSeen {
				c.retiring, changed = true, true
			}
		}
		keep = append(keep, c)
	}
	clear(hp.conns[len(keep):])
	hp.conns = keep
	return changed
}

// dial opens one connection and adds it, waking the waiting requests.
func (hp *hostPool) dial(s *settings) {
	defer hp.p.wg.Done()
	c, err := hp.p.connect(hp)
	hp.mu.Lock()
	hp.dialing--
	if err != nil {
		hp.lastErr = err
		hp.failGen++
	} else if hp.gone {
		c.closed = true
		defer c.cc.Close()
	} else {
		hp.lastErr = nil
		hp.conns = append(hp.conns, c)
		if !c.h2 {
			hp.free = append(hp.free, c)
		}
		if hc, ok := c.cc.(*http.ClientConn); ok {
			hc.SetStateHook(func(*http.ClientConn) { hp.notify() })
		}
	}
	hp.mu.Unlock()
	hp.notify()
}

// release ends one request on c that took took (0: failed, not measured);
// a retiring connection closes with its last.
func (hp *hostPool) release(c *conn, took time.Duration) {
	hp.mu.Lock()
	c.active--
	if took > 0 {
		c.observe(took, time.Now(), hp.meanLatLocked())
	}
	c.lastUsed = time.Now()
	closeIt := c.retiring && c.active == 0 && !c.closed
	if !c.h2 && c.active == 0 && !c.closed && !closeIt {
		if c.cc.Err() != nil {
			closeIt = true // the response ended its keep-alive
		} else {
			hp.freeLocked(c)
		}
	}
	if closeIt {
		hp.removeLocked(c)
	}
	// Only a waiting request cares (it registered under mu before it
	// waits); a channel made and closed per request was a cost of its own.
	wake := hp.waiting > 0 || closeIt
	hp.mu.Unlock()
	if closeIt {
		c.cc.Close()
	}
	if wake {
		hp.notify()
	}
}

// freeLocked puts an idle HTTP/1.1 connection on the free stack; stale
// entries (taken by a scan, closed) are dropped when the stack outgrows
// the connections.
func (hp *hostPool) freeLocked(c *conn) {
	if len(hp.free) >= 2*len(hp.conns)+8 {
		keep := hp.free[:0]
		for _, x := range hp.free {
			if !x.closed && !x.retiring && x.active == 0 {
				keep = append(keep, x)
			}
		}
		clear(hp.free[len(keep):])
		hp.free = keep
	}
	hp.free = append(hp.free, c)
}

func (hp *hostPool) removeLocked(c *conn) {
	c.closed = true
	for i, x := range hp.conns {
		if x == c {
			hp.conns = append(hp.conns[:i], hp.conns[i+1:]...)
			hp.conns = hp.conns[:len(hp.conns):len(hp.conns)]
			return
		}
	}
}
