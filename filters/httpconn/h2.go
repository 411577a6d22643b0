package httpconn

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/net/http2"

	"github.com/sluice-proxy/sluice/filters"
)

// h2server is a Manager's HTTP/2 server, shared by its connections: one
// config, and one graceful shutdown (GOAWAY to every connection) when the
// listener drains.
type h2server struct {
	once, shut sync.Once
	h2s        *http2.Server
	hs         *http.Server
	err        error
}

func (m *Manager) h2() (*http2.Server, *http.Server, error) {
	h := &m.h2srv
	h.once.Do(func() {
		opts := m.cfg.HTTP2ProtocolOptions
		h.h2s = &http2.Server{
			MaxConcurrentStreams:         opts.MaxConcurrentStreams,
			MaxUploadBufferPerStream:     int32(opts.InitialStreamWindowSize),
			MaxUploadBufferPerConnection: int32(opts.InitialConnectionWindowSize),
			MaxReadFrameSize:             16 << 10,
			IdleTimeout:                  m.cfg.CommonHTTPProtocolOptions.IdleTimeout.D(),
			CountError:                   func(string) { m.stats.CxProtocolError.Inc() },
		}
		h.hs = &http.Server{
			MaxHeaderBytes: m.limits.MaxHeaderBytes,
			// x/net/http2 logs protocol errors here: debug level, they are
			// counted in downstream_cx_protocol_error.
			ErrorLog: slog.NewLogLogger(m.log.Handler(), slog.LevelDebug),
		}
		h.err = http2.ConfigureServer(h.hs, h.h2s)
	})
	return h.h2s, h.hs, h.err
}

// serveHTTP2 serves an HTTP/2 connection (h2 after ALPN, or h2c with prior
// knowledge) with x/net/http2's server: flow control windows bound what a
// stream and the connection buffer, and protocol errors get GOAWAY or
// RST_STREAM as that server implements RFC 9113. When the listener drains,
// the connection gets a GOAWAY and in-flight streams finish; prefix holds
// the bytes read to recognise the preface.
func (m *Manager) serveHTTP2(ctx context.Context, s *filters.Session, c filters.Conn, prefix []byte) {
	h2s, hs, err := m.h2()
	if err != nil {
		s.Log.Warn("http_connection_manager: configuring HTTP/2", "err", err)
		return
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	stopDrain := s.OnDrain(func() {
		m.stats.CxDrainClose.Inc()
		// Shutdown returns at once: the connections are not the
		// http.Server's own; its hook sends every one a GOAWAY.
		m.h2srv.shut.Do(func() { hs.Shutdown(context.Background()) })
	})
	defer stopDrain()
	c.SetReadDeadline(time.Time{})
	h2s.ServeConn(&prefixConn{Conn: c, prefix: prefix, ctx: ctx, st: m.stats}, &http2.ServeConnOpts{
		Context:    ctx,
		BaseConfig: hs,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.RemoteAddr = s.Remote.String()
			if s.TLS != nil {
				r.TLS = s.TLS
			}
			m.serveStream(w, r, s)
		}),
	})
}

// lingerClose sends FIN and reads what the client still sends for a moment
// (at most 256 KiB), as net/http does: closing with unread bytes would
// reset the connection, and the client might lose the GOAWAY before it.
func lingerClose(c filters.Conn) {
	if c.CloseWrite() != nil {
		return
	}
	c.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
	io.CopyN(io.Discard, c, 256<<10)
}

// prefixConn replays the bytes read ahead (the preface peek), then reads
// the connection; the peek's 4 KiB buffer is not kept for the connection's
// life.
type prefixConn struct {
	filters.Conn
	prefix []byte
	ctx    context.Context
	st     *Stats // downstream_cx_rx_bytes_total, downstream_cx_tx_bytes_total
}

func (p *prefixConn) Write(b []byte) (int, error) {
	n, err := p.Conn.Write(b)
	p.st.CxTxBytes.Add(uint64(n))
	return n, err
}

// Close lingers (lingerClose) unless the server gave up on the connection.
func (p *prefixConn) Close() error {
	if p.ctx.Err() == nil {
		lingerClose(p.Conn)
	}
	return p.Conn.Close()
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.prefix) > 0 {
		n := copy(b, p.prefix)
		p.prefix = p.prefix[n:]
		return n, nil
	}
	n, err := p.Conn.Read(b)
	p.st.CxRxBytes.Add(uint64(n))
	return n, err
}
