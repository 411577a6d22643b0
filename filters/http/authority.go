package httpfilter

import (
	"net"
	"net/http"
	"strings"
)

// Authority returns the request's host as "name:port" for a forward proxy:
// the Host (the absolute-form URI's authority for HTTP/1.1, :authority for
// HTTP/2), with port 443 for https URLs and 80 otherwise when it has none.
func Authority(r *http.Request) string {
	host := r.Host
	if host == "" && r.URL != nil {
		host = r.URL.Host
	}
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	port := "80"
	if r.URL != nil && r.URL.Scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), port)
}
