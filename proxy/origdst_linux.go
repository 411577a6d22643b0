package proxy

import (
	"encoding/binary"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// originalDst is envoy.filters.listener.original_dst: a connection
// redirected by iptables (REDIRECT, DNAT, TPROXY) has its original
// destination restored as the local address, read with SO_ORIGINAL_DST
// from conntrack. A connection that was not redirected (or a kernel
// without conntrack) keeps its socket's local address, as in Envoy.
type originalDst struct{}

func (originalDst) inspect(lc *lfConn) error {
	rc, err := lc.raw.SyscallConn()
	if err != nil {
		return nil
	}
	var dst netip.AddrPort
	rc.Control(func(fd uintptr) { dst = origDst(int(fd), lc.facts.local.Addr().Unmap().Is4()) })
	if dst.IsValid() {
		lc.facts.local = dst
		lc.s.Local = dst
	}
	return nil
}

// origDst asks the kernel for a socket's original destination; the zero
// AddrPort when it has none.
func origDst(fd int, v4 bool) netip.AddrPort {
	if v4 {
		// SO_ORIGINAL_DST returns a sockaddr_in; IPv6Mreq is a 20-byte
		// buffer x/sys offers a getter for.
		m, err := unix.GetsockoptIPv6Mreq(fd, unix.SOL_IP, unix.SO_ORIGINAL_DST)
		if err != nil {
			return netip.AddrPort{}
		}
		b := (*[unsafe.Sizeof(*m)]byte)(unsafe.Pointer(m))
		return sockaddrIn(b[:])
	}
	mi, err := unix.GetsockoptIPv6MTUInfo(fd, unix.SOL_IPV6, ip6tSoOriginalDst)
	if err != nil {
		return netip.AddrPort{}
	}
	a := mi.Addr
	port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&a.Port))[:])
	return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), port)
}

// sockaddrIn decodes a struct sockaddr_in (family, port in network order,
// address).
func sockaddrIn(b []byte) netip.AddrPort {
	if len(b) < 8 || binary.NativeEndian.Uint16(b[0:2]) != unix.AF_INET {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), binary.BigEndian.Uint16(b[2:4]))
}

// ip6tSoOriginalDst is IP6T_SO_ORIGINAL_DST (linux/netfilter_ipv6/ip6_tables.h),
// which x/sys does not define.
const ip6tSoOriginalDst = 80
