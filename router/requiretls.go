package router

import "net/http"

// TLSRedirect applies the request's virtual host's require_tls: a request
// not made over TLS (x-forwarded-proto, which the connection manager sets,
// is not "https") gets the https URL to redirect to (301, before any route
// matches, as Envoy's SSL redirect route). EXTERNAL_ONLY spares internal
// requests (x-envoy-internal: true, a header external clients cannot set
// at an edge that strips x-envoy-*).
func (t *Table) TLSRedirect(req *http.Request) (string, bool) {
	vh := t.virtualHost(req.Host)
	if vh == nil || vh.requireTLS == "" || req.Header.Get("X-Forwarded-Proto") == "https" {
		return "", false
	}
	if vh.requireTLS == "EXTERNAL_ONLY" && req.Header.Get("X-Envoy-Internal") == "true" {
		return "", false
	}
	return "https://" + req.Host + req.URL.RequestURI(), true
}
