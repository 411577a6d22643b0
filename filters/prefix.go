package filters

import "net"

// PrefixConn is a raw TCP connection some of whose first bytes were already
// read (to inspect a TLS ClientHello); Read returns those bytes first. A
// terminal that splices writes Prefix upstream itself and then splices TCPConn.
type PrefixConn struct {
	*net.TCPConn
	Prefix []byte
}

// Read returns the remaining prefix bytes, then reads the connection.
func (p *PrefixConn) Read(b []byte) (int, error) {
	if len(p.Prefix) > 0 {
		n := copy(b, p.Prefix)
		p.Prefix = p.Prefix[n:]
		return n, nil
	}
	return p.TCPConn.Read(b)
}
