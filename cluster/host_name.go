package cluster

import (
	"net"
	"net/netip"
)

func (h *Host) setHostname(name string) {
	if p := h.name.Load(); p == nil || *p != name {
		h.name.Store(&name)
	}
}

// Hostname is the name auto_host_rewrite sends as the Host: the
// endpoint's hostname, else the DNS name of a strict_dns or logical_dns
// endpoint, else "" (Envoy rewrites nothing then).
func (h *Host) Hostname() string {
	if p := h.name.Load(); p != nil && *p != "" {
		return *p
	}
	if name, _, err := net.SplitHostPort(h.addr); err == nil {
		if _, err := netip.ParseAddr(name); err != nil {
			return name // a logical_dns host keeps its name as its address
		}
	}
	return ""
}
