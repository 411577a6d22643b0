package proxy

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/stats"
)

// listenerFilter is one of Envoy's listener filters: it runs on an accepted
// connection before a chain is chosen, learns facts for the match (and the
// session), and may consume bytes (a PROXY header) or only look at them (a
// ClientHello, an HTTP request line), which are then replayed to the chain.
type listenerFilter interface {
	// inspect works on lc; an error closes the connection (logged, with
	// the error as the termination reason).
	inspect(lc *lfConn) error
}

// lfConn is an accepted connection while listener filters run.
type lfConn struct {
	raw   *net.TCPConn
	buf   []byte // read ahead and not consumed: replayed to the chain
	facts *connFacts
	s     *filters.Session
}

// reader returns a net.Conn that reads buf first, then the socket; the
// caller puts back in buf what it read and did not consume, followed by
// the reader's unread Prefix.
func (lc *lfConn) reader() *filters.PrefixConn {
	p := &filters.PrefixConn{TCPConn: lc.raw, Prefix: lc.buf}
	lc.buf = nil
	return p
}

// readMore reads once from the socket into buf, at most limit bytes in all.
func (lc *lfConn) readMore(limit int) error {
	if len(lc.buf) >= limit {
		return errTooLong
	}
	var b [4096]byte
	n, err := lc.raw.Read(b[:min(len(b), limit-len(lc.buf))])
	lc.buf = append(lc.buf, b[:n]...)
	return err
}

// errListenerFilterTimeout wraps a read that hit listener_filters_timeout.
var errListenerFilterTimeout = errors.New("listener filters timeout")

// buildListenerFilters builds the configured listener filters, and the
// implicit ClientHello read that chains matching on TLS facts (or
// terminating TLS) relied on before tls_inspector was explicit: the
// inspector runs last when not configured and a chain needs it.
func buildListenerFilters(l *config.Listener, lpath string, root *stats.Scope) ([]listenerFilter, bool, error) {
	var out []listenerFilter
	hasTLS := false
	for i, f := range l.ListenerFilters {
		p := fmt.Sprintf("%s.listener_filters[%d]", lpath, i)
		switch c := f.TypedConfig.(type) {
		case *config.TLSInspectorConfig:
			hasTLS = true
			out = append(out, newTLSInspector(c, root))
		case *config.ProxyProtocolConfig:
			out = append(out, newProxyProtocol(c, root))
		case *config.EmptyListenerFilterConfig:
			switch f.Name {
			case config.HTTPInspector:
				out = append(out, newHTTPInspector(root))
			case config.OriginalDst:
				out = append(out, originalDst{})
			}
		default:
			return nil, false, fmt.Errorf("%s: listener filter %q has no config", p, f.Name)
		}
	}
	return out, hasTLS, nil
}

// runListenerFilters runs the chain set's listener filters on a new
// connection under listener_filters_timeout and returns the bytes to
// replay. A timeout closes the connection (downstream_pre_cx_timeout) unless
// continue_on_listener_filters_timeout is set: then the facts learnt so far
// choose the chain, as in Envoy.
func (l *listener) runListenerFilters(cs *chainSet, lc *lfConn) error {
	l.st.preCxActive.Inc()
	defer l.st.preCxActive.Dec()
	if d := cs.listener.ListenerFiltersTimeout.D(); d > 0 {
		lc.raw.SetReadDeadline(time.Now().Add(d))
		defer lc.raw.SetReadDeadline(time.Time{})
	}
	for _, f := range cs.lfilters {
		if err := f.inspect(lc); err != nil {
			if isTimeout(err) {
				l.st.preCxTimeout.Inc()
				if cs.listener.ContinueOnListenerFiltersTimeout {
					return nil
				}
				return fmt.Errorf("%w: %v", errListenerFilterTimeout, err)
			}
			return err
		}
	}
	return nil
}
