package proxy

import (
	"context"
	"log/slog"
	"net/netip"
)

// connHandler gives a connection's logger its "conn" and "remote"
// attributes without formatting them per connection: slog's text and JSON
// handlers format With attributes at once (a copy of the handler and its
// buffer, and the address as a string), which was a tenth of the bytes
// allocated per short tcp_proxy connection, while most connections never
// log a line. The attributes are formatted, in the same place as With
// would put them, only when a record is handled or a filter adds its own.
type connHandler struct {
	inner  slog.Handler
	id     uint64
	remote netip.AddrPort
}

// connLogger returns log with the connection's attributes.
func connLogger(log *slog.Logger, id uint64, remote netip.AddrPort) *slog.Logger {
	return slog.New(&connHandler{inner: log.Handler(), id: id, remote: remote})
}

// resolved is the inner handler with the attributes applied, as With does.
func (h *connHandler) resolved() slog.Handler {
	return h.inner.WithAttrs([]slog.Attr{slog.Uint64("conn", h.id), slog.String("remote", h.remote.String())})
}

// Enabled asks the inner handler.
func (h *connHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

// Handle formats the connection's attributes, then the record.
func (h *connHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.resolved().Handle(ctx, r)
}

// WithAttrs applies the connection's attributes first, as With would have.
func (h *connHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return h.resolved().WithAttrs(as)
}

// WithGroup keeps the connection's attributes outside the group.
func (h *connHandler) WithGroup(name string) slog.Handler {
	return h.resolved().WithGroup(name)
}
