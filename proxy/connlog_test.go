package proxy

import (
	"bytes"
	"log/slog"
	"net/netip"
	"testing"
)

// TestConnLoggerWritesAsWith: a connection's logger writes what
// log.With("conn", id, "remote", addr) wrote, records, attributes a filter
// adds and groups alike, in text and JSON.
func TestConnLoggerWritesAsWith(t *testing.T) {
	remote := netip.MustParseAddrPort("192.0.2.7:40123")
	uses := map[string]func(*slog.Logger){
		"record":     func(l *slog.Logger) { l.Info("closed", "err", "eof") },
		"with":       func(l *slog.Logger) { l.With("proxy_protocol_source", "198.51.100.1:9").Warn("x", "n", 1) },
		"group":      func(l *slog.Logger) { l.WithGroup("pg").Info("query", "rows", 3) },
		"filtered":   func(l *slog.Logger) { l.Debug("not written") },
		"attrs+with": func(l *slog.Logger) { l.With("a", 1).WithGroup("g").With("b", 2).Error("e", "c", 3) },
	}
	handlers := map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	}
	for hn, mk := range handlers {
		for un, use := range uses {
			var want, got bytes.Buffer
			base := func(b *bytes.Buffer) *slog.Logger {
				return slog.New(mk(b)).With("listener", "l")
			}
			use(base(&want).With("conn", uint64(42), "remote", remote.String()))
			use(connLogger(base(&got), 42, remote))
			// The time differs between the two lines; compare without it.
			w, g := dropTime(want.String()), dropTime(got.String())
			if w != g {
				t.Errorf("%s/%s:\n got %s\nwant %s", hn, un, g, w)
			}
			if un != "filtered" && !bytes.Contains(got.Bytes(), []byte("192.0.2.7:40123")) {
				t.Errorf("%s/%s: no remote address in %q", hn, un, got.String())
			}
		}
	}
}

// dropTime removes the time attribute slog's handlers write first.
func dropTime(s string) string {
	var out bytes.Buffer
	for _, line := range bytes.Split([]byte(s), []byte("\n")) {
		if i := bytes.Index(line, []byte("level")); i > 0 {
			line = line[i:]
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	return out.String()
}
