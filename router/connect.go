package router

import "net/http"

// Connect reports whether the route tunnels CONNECT requests: its
// upgrade_configs enable upgrade_type CONNECT.
func (r *Route) Connect() bool { return r.connect }

// IsConnect reports a classic CONNECT request (HTTP/1.1, or HTTP/2 without
// RFC 8441's :protocol), which asks for a TCP tunnel to its authority.
func IsConnect(req *http.Request) bool {
	return req.Method == http.MethodConnect && !isExtendedConnect(req)
}

// isExtendedConnect reports RFC 8441's extended CONNECT (HTTP/2 with a
// :protocol, such as websocket), which carries a path and is routed by it.
func isExtendedConnect(req *http.Request) bool {
	return req.Method == http.MethodConnect && req.Header.Get(":protocol") != ""
}
