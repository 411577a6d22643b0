package redis

import (
	"net"
	"strings"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/codec/redis"
)

// maxRedirects bounds how often one request follows MOVED or ASK.
const maxRedirects = 3

// redirect follows a MOVED or ASK reply for s, which came from pool from.
// It returns false when the reply should go to the client as it is.
// The resend runs on its own goroutine: it may dial, and the upstream
// reader that saw the redirect must not block. Redirects are rare (slot
// migrations), so this is off the hot path.
func (p *Proxy) redirect(s *slot, from *hostPool, rd redis.Redirect) bool {
	if !p.cfg.Settings.EnableRedirection || s.rt == nil || s.redirects >= maxRedirects {
		return false
	}
	t := target{rt: s.rt, hp: from}
	hp, h := p.redirectPool(t, rd)
	if hp == nil {
		return false
	}
	s.redirects++
	if s.host != nil {
		s.host.EndRequest(true)
	}
	s.host = h
	if h != nil {
		h.BeginRequest()
	}
	// A panic here is contained; the request then waits for the client's
	// connection to end (completing it from the handler could complete it
	// twice).
	p.guard.Go("redis_proxy redirect", nil, func() {
		uc, err := hp.get(0)
		if err != nil {
			s.host = nil
			s.complete(replyUpstreamFailure, false)
			return
		}
		if rd.Ask {
			asking := newSlot(nil)
			raw := make([]byte, 0, len(askingCmd)+s.raw.len())
			raw = append(append(raw, askingCmd...), s.raw.bytes()...)
			err = uc.send(raw, asking, s)
			if err != nil {
				asking.release()
			}
		} else {
			err = uc.send(s.raw.bytes(), s)
		}
		if err != nil {
			s.host = nil
			s.complete(replyUpstreamFailure, false)
		}
	}, "addr", hp.addr)
	return true
}

// redirectPool returns the pool of a redirect's address: a node of the
// route's Redis Cluster (counted towards redirect_refresh_threshold), or a host of a
// standalone cluster with that address.
func (p *Proxy) redirectPool(t target, rd redis.Redirect) (*hostPool, *cluster.Host) {
	addr := string(rd.Addr)
	if strings.HasPrefix(addr, ":") {
		host, _, _ := net.SplitHostPort(t.hp.addr)
		addr = net.JoinHostPort(host, addr[1:])
	} else if h, port, err := net.SplitHostPort(addr); err == nil {
		addr = net.JoinHostPort(h, port)
	}
	st := t.rt.state()
	if st.err != nil {
		return nil, nil
	}
	if topo := st.topo; topo != nil {
		topo.redirected()
		return topo.pool(addr)
	}
	for _, h := range st.cluster.Hosts() {
		if h.Address() == addr || h.DialAddress() == addr {
			return p.hostPool(st.cluster, t.rt.auth, h, false), h
		}
	}
	return nil, nil
}
