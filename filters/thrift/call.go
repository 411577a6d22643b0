package thrift

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/cluster/muxpool"
	codec "github.com/sluice-proxy/sluice/codec/thrift"
	"github.com/sluice-proxy/sluice/filters"
)

// handle counts, routes and sends one call of a client; complete runs once
// its answer is known (at once for a local answer). It never waits for the
// upstream reply; it may dial (bounded by the cluster's connect_timeout).
// It reports whether a local answer closes the connection.
func (p *Proxy) handle(ctx context.Context, s *filters.Session, m *codec.Message, complete func(*inflight)) bool {
	it, sent := p.route(ctx, s, m, complete)
	if sent { // complete runs from the pool
		return false
	}
	complete(it)
	return it.closeAfter
}

// route routes and sends m (sent), or leaves a local answer in it.local.
func (p *Proxy) route(ctx context.Context, s *filters.Session, m *codec.Message, complete func(*inflight)) (_ *inflight, sent bool) {
	it := &inflight{m: m, start: time.Now()}
	st := p.stats
	st.Request.Inc()
	switch m.Type {
	case codec.Call:
		st.RequestCall.Inc()
	case codec.Oneway:
		st.RequestOneway.Inc()
	}
	st.RequestActive.Inc()
	r := findRoute(p.routes, m)
	if r == nil {
		st.RouteMissing.Inc()
		return p.local(it, codec.ExcUnknownMethod, fmt.Sprintf("no route for method '%s'", m.Name), false), false
	}
	name := r.clusterFor(m)
	cl := p.clusters.Get(name)
	if cl == nil {
		st.UnknownCluster.Inc()
		return p.local(it, codec.ExcInternalError, fmt.Sprintf("unknown cluster '%s'", name), false), false
	}
	s.UpdateAccess(func(a *filters.AccessRecord) { a.Cluster = name })
	it.cs = p.cstats.get(cl)
	oneway := m.Type == codec.Oneway
	if oneway {
		it.cs.RqOneway.Inc()
	} else {
		it.cs.RqCall.Inc()
	}
	h := cl.Pick(0, false)
	if h == nil {
		st.NoHealthyUpstream.Inc()
		cl.Stats().CxNoneHealthy.Inc()
		return p.local(it, codec.ExcInternalError, fmt.Sprintf("no healthy upstream for '%s'", name), p.closeOnUp), false
	}
	up, ok := p.pool(cl)
	if !ok {
		return p.local(it, codec.ExcInternalError, "thrift_proxy is shutting down", true), false
	}
	upName := m.Name
	if r.strip {
		upName = stripService(upName)
	}
	target := up.target
	target.Headers = m.Headers
	enc := func(dst []byte, id int32) ([]byte, error) { return codec.Encode(dst, m, target, upName, id) }
	h.BeginRequest()
	for _, mr := range r.mirrors {
		p.mirror(ctx, mr, m, upName)
	}
	up.pool.Send(ctx, h, enc, oneway, p.timeout, func(c *muxpool.Call[*codec.Message]) {
		it.call = c
		complete(it)
	})
	return it, true
}

// mirror sends a copy of m to the mirror's cluster; the reply is dropped.
func (p *Proxy) mirror(ctx context.Context, mr mirror, m *codec.Message, name string) {
	if mr.per < 1000000 && rand.Uint32N(1000000) >= mr.per {
		return
	}
	cl := p.clusters.Get(mr.cluster)
	var h *cluster.Host
	if cl != nil {
		h = cl.Pick(0, false)
	}
	var up *upstream
	ok := false
	if h != nil {
		up, ok = p.pool(cl)
	}
	if !ok {
		p.stats.ShadowRequestSubmitFail.Inc()
		return
	}
	target := up.target
	target.Headers = m.Headers
	enc := func(dst []byte, id int32) ([]byte, error) { return codec.Encode(dst, m, target, name, id) }
	// The shadow's Call completes on its own (reply, reset or timeout);
	// nothing waits for it.
	up.pool.Send(context.WithoutCancel(ctx), h, enc, m.Type == codec.Oneway, p.timeout, nil)
}

// local makes a TApplicationException answer for a call (none for oneway).
func (p *Proxy) local(it *inflight, kind int32, msg string, closeAfter bool) *inflight {
	it.closeAfter = closeAfter
	if it.m.Type == codec.Oneway {
		it.local = []byte{}
		return it
	}
	b, err := appException(nil, it.m, kind, msg)
	if err != nil {
		it.closeAfter = true
		b = []byte{}
	}
	it.local = b
	return it
}

// answer accounts for a completed call and returns the client's answer;
// write is false when there is none (oneway).
func (p *Proxy) answer(s *filters.Session, it *inflight) (out []byte, write bool) {
	var dst []byte
	st := p.stats
	defer func() {
		st.RequestActive.Dec()
		st.RequestTimeMs.Record(float64(time.Since(it.start).Microseconds()) / 1000)
	}()
	if it.call == nil { // answered locally
		if len(it.local) > 0 {
			p.countResponse(it.m, codec.ReplyException, nil)
		}
		return it.local, len(it.local) > 0
	}
	call := it.call
	h := call.Host
	it.cs.RqSize.Record(float64(call.Sent))
	if it.m.Type == codec.Oneway {
		if call.Err != nil {
			h.EndRequestReported()
		} else {
			h.EndRequest(true)
		}
		return nil, false
	}
	if call.Err != nil {
		return p.upstreamFailure(s, it)
	}
	rep := call.Reply
	it.cs.RqTimeMs.Record(float64(time.Since(it.start).Microseconds()) / 1000)
	it.cs.RespSize.Record(float64(rep.Size))
	outcome := rep.Outcome()
	p.countResponse(rep, outcome, it.cs)
	h.EndRequest(outcome == codec.ReplySuccess)
	target := codec.Target{Transport: it.m.Transport, Protocol: it.m.Protocol, Headers: rep.Headers}
	out, err := codec.Encode(dst, rep, target, rep.Name, it.m.SeqID)
	if err != nil {
		st.ResponseDecodingError.Inc()
		it.cs.RespDecodingError.Inc()
		s.Log.Warn("thrift_proxy: cannot re-encode reply", "method", it.m.Name, "err", err)
		out, _ = appException(dst, it.m, codec.ExcInternalError, "bad reply from upstream")
	}
	return out, true
}

// upstreamFailure answers a call whose upstream request failed.
func (p *Proxy) upstreamFailure(s *filters.Session, it *inflight) ([]byte, bool) {
	var dst []byte
	err := it.call.Err
	h := it.call.Host
	h.EndRequestReported()
	msg := "connection failure"
	switch {
	case errors.Is(err, muxpool.ErrTimeout):
		p.stats.UpstreamRqTimeout.Inc()
		msg = "upstream request timeout"
	case errors.Is(err, cluster.ErrOverflow):
		msg = "too many connections or requests: " + err.Error()
		it.closeAfter = p.closeOnUp
	case errors.Is(err, muxpool.ErrReset):
		msg = "connection reset before the reply"
		it.closeAfter = p.closeOnUp
	default:
		msg = "connection failure: " + err.Error()
		it.closeAfter = p.closeOnUp
	}
	it.cs.RespException.Inc()
	it.cs.RespExcLocal.Inc()
	p.countResponse(it.m, codec.ReplyException, nil)
	s.Log.Debug("thrift_proxy: local exception", "method", it.m.Name, "err", err)
	out, e := appException(dst, it.m, codec.ExcInternalError, msg)
	if e != nil {
		it.closeAfter = true
	}
	return out, true
}

// countResponse counts an answer as Envoy does: response, then reply
// (success or error) or exception; cs also gets the upstream_resp_* stats.
func (p *Proxy) countResponse(m *codec.Message, o codec.ReplyOutcome, cs *ClusterStats) {
	st := p.stats
	st.Response.Inc()
	switch o {
	case codec.ReplyException:
		st.ResponseException.Inc()
		if cs != nil {
			cs.RespException.Inc()
			cs.RespExcRemote.Inc()
		}
		return
	case codec.ReplySuccess:
		st.ResponseSuccess.Inc()
		if cs != nil {
			cs.RespSuccess.Inc()
		}
	default:
		st.ResponseError.Inc()
		if cs != nil {
			cs.RespError.Inc()
		}
	}
	st.ResponseReply.Inc()
	if cs != nil {
		cs.RespReply.Inc()
	}
}

// appException answers m locally. A multiplexed name loses its "Service:"
// prefix, as a multiplexing server's reply does (the Go client checks the
// reply's name against the bare method name).
func appException(dst []byte, m *codec.Message, kind int32, msg string) ([]byte, error) {
	mm := *m
	mm.Name = stripService(m.Name)
	return codec.AppException(dst, &mm, kind, msg)
}
