//go:build !linux

package tcpproxy

import (
	"errors"
	"net"
	"sync/atomic"

	"github.com/sluice-proxy/sluice/filters"
)

// Event loops are Linux only (epoll); elsewhere every pipe uses a goroutine
// per direction.

// SetIOLoops has no effect outside Linux.
func SetIOLoops(int) {}

type evLoop struct{}

var flowsStarted, flowsBulkBack atomic.Uint64

func pickLoop() *evLoop { return nil }

type flow struct {
	done  chan struct{}
	err   error
	errUp bool
	first int32
	bulk  bool
	down  struct{ fd int }
	up    struct{ fd int }
}

func (*flow) abort() {}

func startFlow(*evLoop, *pipe, filters.Taps, *net.TCPConn) (*flow, error) {
	return nil, errors.New("tcp_proxy: no event loops on this platform")
}
