package tcpproxy

import (
	"net"

	"golang.org/x/sys/unix"
)

// tcpBytesReceived reads tcpi_bytes_received of a TCP socket (Linux 4.1+); 0
// for other connections.
func tcpBytesReceived(c net.Conn) uint64 {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return 0
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return 0
	}
	var v uint64
	rc.Control(func(fd uintptr) {
		if info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
			v = info.Bytes_received
		}
	})
	return v
}
