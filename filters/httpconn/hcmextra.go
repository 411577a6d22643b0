package httpconn

import (
	"net"
	"net/http"
	"strconv"

	"github.com/sluice-proxy/sluice/filters"
)

// prepareMore applies the connection manager's smaller request options:
// strip_any_host_port / strip_matching_host_port (before routing),
// always_set_request_id_in_response (set on the response headers now, so
// upstream answers and local replies both carry it) and via on the request
// (on responses: upstreamResponseMore).
func (m *Manager) prepareMore(w http.ResponseWriter, r *http.Request, s *filters.Session) {
	if m.cfg.NormalizePath || m.cfg.MergeSlashes {
		normalizeRequestPath(r, m.cfg.NormalizePath, m.cfg.MergeSlashes)
	}
	if m.cfg.StripAnyHostPort || m.cfg.StripMatchingHostPort {
		if host, port, err := net.SplitHostPort(r.Host); err == nil &&
			(m.cfg.StripAnyHostPort || port == strconv.Itoa(int(s.Local.Port()))) {
			if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
				host = "[" + host + "]"
			}
			r.Host = host
		}
	}
	if m.cfg.AlwaysSetRequestIDInResponse {
		if id := r.Header.Get("X-Request-Id"); id != "" {
			w.Header().Set("X-Request-Id", id)
		}
	}
	if v := m.cfg.Via; v != "" {
		appendVia(r.Header, v)
	}
}

// appendVia adds v to h's via as Envoy does: after the values there, comma
// separated.
func appendVia(h http.Header, v string) {
	if old := h.Get("Via"); old != "" {
		v = old + ", " + v
	}
	h.Set("Via", v)
}

// upstreamResponseMore appends via to an upstream response (local replies
// do not carry it) and drops the upstream's x-request-id when
// prepareMore set the request's.
func (m *Manager) upstreamResponseMore(resp *http.Response) {
	if v := m.cfg.Via; v != "" {
		appendVia(resp.Header, v)
	}
	if m.cfg.AlwaysSetRequestIDInResponse {
		resp.Header.Del("X-Request-Id")
	}
}

// serverHeader sets the server header by server_header_transformation:
// OVERWRITE sets server_name on every response; APPEND_IF_ABSENT keeps an
// upstream's own; PASS_THROUGH leaves upstream responses alone and adds
// none to local replies.
func (m *Manager) serverHeader(h http.Header, upstream bool) {
	if m.cfg.ServerName == "" {
		return
	}
	switch m.cfg.ServerHeaderTransformation {
	case "PASS_THROUGH":
		return
	case "APPEND_IF_ABSENT":
		if upstream && h.Get("Server") != "" {
			return
		}
	}
	h.Set("Server", m.cfg.ServerName)
}

// validServerHeaderTransformation lists Envoy's values.
func validServerHeaderTransformation(v string) bool {
	switch v {
	case "", "OVERWRITE", "APPEND_IF_ABSENT", "PASS_THROUGH":
		return true
	}
	return false
}
