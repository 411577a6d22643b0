package httpconn

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/http2"

	"github.com/sluice-proxy/sluice/filters"
)

// serveHTTP2 serves an HTTP/2 connection (h2 after ALPN, or h2c with prior
// knowledge) with x/net/http2's server: flow control windows bound what a
// stream and the connection buffer, and protocol errors get GOAWAY or
// RST_STREAM as that server implements RFC 9113. On ctx cancellation (drain)
// the connection gets a GOAWAY and in-flight streams may finish.
func (m *Manager) serveHTTP2(ctx context.Context, s *filters.Session, c filters.Conn, br *bufio.Reader) {
	opts := m.cfg.HTTP2ProtocolOptions
	h2s := &http2.Server{
		MaxConcurrentStreams:         opts.MaxConcurrentStreams,
		MaxUploadBufferPerStream:     int32(opts.InitialStreamWindowSize),
		MaxUploadBufferPerConnection: int32(opts.InitialConnectionWindowSize),
		MaxReadFrameSize:             16 << 10,
		IdleTimeout:                  m.cfg.CommonHTTPProtocolOptions.IdleTimeout.D(),
		CountError: func(string) {
			m.stats.CxProtocolError.Inc()
		},
	}
	hs := &http.Server{
		MaxHeaderBytes: m.limits.MaxHeaderBytes,
		// x/net/http2 logs protocol errors here: debug level, they are
		// counted in downstream_cx_protocol_error.
		ErrorLog: slog.NewLogLogger(s.Log.Handler(), slog.LevelDebug),
	}
	if err := http2.ConfigureServer(hs, h2s); err != nil {
		s.Log.Warn("http_connection_manager: configuring HTTP/2", "err", err)
		return
	}
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		hs.Shutdown(sctx) // GOAWAY
	})
	defer stop()
	stopDrain := s.OnDrain(func() { // GOAWAY, streams finish
		m.stats.CxDrainClose.Inc()
		hs.Shutdown(ctx)
	})
	defer stopDrain()
	c.SetReadDeadline(time.Time{})
	h2s.ServeConn(&bufferedConn{Conn: c, r: br}, &http2.ServeConnOpts{
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

// bufferedConn replays the bytes read ahead (the preface peek).
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }
