package kafkabroker

import (
	"context"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/sluice-proxy/sluice/filters"
)

// brokerPipe is the terminal of a per-broker listener: a plain TCP pipe to
// its broker. The client side is kafka_broker's conn (the observer ran
// before), so refusals and rewrites apply as on the bootstrap listener.
type brokerPipe struct {
	addr string
	log  *slog.Logger
}

// dialTimeout bounds the connect to a broker.
const dialTimeout = 10 * time.Second

func (p *brokerPipe) Serve(ctx context.Context, s *filters.Session, c filters.Conn) {
	d := net.Dialer{Timeout: dialTimeout}
	uc, err := d.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		s.Log.Info("kafka_broker: broker connect failed", "broker", p.addr, "err", err)
		s.UpdateAccess(func(a *filters.AccessRecord) { a.TerminationReason = "upstream_connect_failed" })
		return
	}
	up := uc.(*net.TCPConn)
	defer up.Close()
	s.UpdateAccess(func(a *filters.AccessRecord) {
		a.UpstreamHost, a.UpstreamLocal = p.addr, up.LocalAddr().String()
	})
	stop := context.AfterFunc(ctx, func() { up.Close(); c.Close() }) // drain deadline
	defer stop()
	done := make(chan struct{})
	var rx int64
	s.Go(func() {
		defer close(done)
		var err error
		if rx, err = io.Copy(up, c); err != nil {
			c.Close() // a refused stream: end both directions
		}
		up.CloseWrite()
	})
	tx, err := io.Copy(c, up)
	if err != nil {
		up.Close()
	}
	c.CloseWrite()
	<-done
	s.UpdateAccess(func(a *filters.AccessRecord) { a.BytesReceived, a.BytesSent = uint64(rx), uint64(tx) })
}

var _ filters.TerminalFilter = (*brokerPipe)(nil)
