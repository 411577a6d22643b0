//go:build !linux

package proxy

// originalDst is envoy.filters.listener.original_dst; SO_ORIGINAL_DST is
// Linux's, so elsewhere connections keep their socket's local address.
type originalDst struct{}

func (originalDst) inspect(*lfConn) error { return nil }
