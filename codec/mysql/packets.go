package mysql

import (
	"fmt"

	gm "github.com/go-mysql-org/go-mysql/mysql"
)

// greeting is the server's initial handshake (protocol version 10).
type greeting struct {
	version    []byte
	connID     uint32
	caps, ext  uint32 // ext: MariaDB extended capabilities
	authPlugin []byte
}

func parseGreeting(p []byte) (g greeting, err error) {
	r := reader{b: p}
	if v := r.u8("protocol version"); r.err == nil && v != gm.ClassicProtocolVersion {
		return g, fmt.Errorf("unsupported protocol version %d", v)
	}
	g.version = r.nulStr("server version")
	g.connID = r.u32("connection id")
	r.skip(8+1, "auth data")
	g.caps = uint32(r.u16("capabilities"))
	if r.err != nil {
		return g, r.err
	}
	if r.left() == 0 { // pre-4.1 servers stop here
		return g, nil
	}
	r.skip(1+2, "charset and status")
	g.caps |= uint32(r.u16("capabilities")) << 16
	authLen := int(r.u8("auth data length"))
	r.skip(6, "reserved")
	ext := r.u32("extended capabilities")
	if g.caps&gm.CLIENT_LONG_PASSWORD == 0 {
		g.ext = ext
	}
	if g.caps&gm.CLIENT_SECURE_CONNECTION != 0 {
		r.skip(max(13, authLen-8), "auth data part 2")
	}
	if g.caps&gm.CLIENT_PLUGIN_AUTH != 0 {
		g.authPlugin = r.nulStrOrEnd()
	}
	return g, r.err
}

// login is a HandshakeResponse41, an SSLRequest (its first 32 bytes) or the
// body of a COM_CHANGE_USER.
type login struct {
	caps, ext  uint32 // ext: MariaDB extended capabilities
	user, db   []byte
	authPlugin []byte
}

// sslRequestLen is the payload length of an SSLRequest.
const sslRequestLen = 32

func parseHandshakeResponse(p []byte) (l login, err error) {
	r := reader{b: p}
	l.caps = r.u32("capabilities")
	if r.err == nil && l.caps&gm.CLIENT_PROTOCOL_41 == 0 {
		return l, fmt.Errorf("pre-4.1 handshake response is not supported")
	}
	r.skip(4+1+19, "max packet, charset, filler")
	ext := r.u32("extended capabilities")
	if l.caps&gm.CLIENT_LONG_PASSWORD == 0 {
		l.ext = ext
	}
	if r.err != nil || r.left() == 0 { // an SSLRequest ends here
		return l, r.err
	}
	l.user = r.nulStr("user")
	switch {
	case l.caps&gm.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA != 0:
		r.lenencStr("auth response")
	case l.caps&gm.CLIENT_SECURE_CONNECTION != 0:
		r.skip(int(r.u8("auth response length")), "auth response")
	default:
		r.nulStr("auth response")
	}
	if l.caps&gm.CLIENT_CONNECT_WITH_DB != 0 && r.left() > 0 {
		l.db = r.nulStrOrEnd()
	}
	if l.caps&gm.CLIENT_PLUGIN_AUTH != 0 && r.left() > 0 {
		l.authPlugin = r.nulStrOrEnd()
	}
	return l, r.err
}

// parseChangeUser decodes COM_CHANGE_USER after its command byte; caps are
// the client's capabilities from the login.
func parseChangeUser(p []byte, caps uint32) (l login, err error) {
	r := reader{b: p}
	l.caps = caps
	l.user = r.nulStr("user")
	if caps&gm.CLIENT_SECURE_CONNECTION != 0 {
		r.skip(int(r.u8("auth response length")), "auth response")
	} else {
		r.nulStr("auth response")
	}
	if r.left() > 0 {
		l.db = r.nulStrOrEnd()
	}
	if r.left() >= 2 {
		r.skip(2, "charset")
		if caps&gm.CLIENT_PLUGIN_AUTH != 0 && r.left() > 0 {
			l.authPlugin = r.nulStrOrEnd()
		}
	}
	return l, r.err
}

// parseAuthSwitch returns the plugin an auth switch request names.
func parseAuthSwitch(p []byte) ([]byte, error) {
	if len(p) == 1 { // old-style switch to mysql_old_password
		return []byte(gm.AUTH_MYSQL_OLD_PASSWORD), nil
	}
	r := reader{b: p, off: 1}
	return r.nulStrOrEnd(), r.err
}

// okPacket is the interesting part of an OK packet (header 0x00 or 0xfe).
type okPacket struct {
	affected, lastID uint64
	status, warnings uint16
}

func parseOK(p []byte) (o okPacket, err error) {
	r := reader{b: p, off: 1}
	o.affected = r.lenenc("affected rows")
	o.lastID = r.lenenc("last insert id")
	o.status = r.u16("status flags")
	o.warnings = r.u16("warnings")
	return o, r.err
}

// parseEOF decodes a classic EOF packet (0xfe, < 9 bytes).
func parseEOF(p []byte) (o okPacket, err error) {
	if len(p) < 5 { // pre-4.1: just the header
		return o, nil
	}
	r := reader{b: p, off: 1}
	o.warnings = r.u16("warnings")
	o.status = r.u16("status flags")
	return o, r.err
}

// errPacket is an ERR packet.
type errPacket struct {
	code  uint16
	state []byte
	msg   []byte
}

// progressCode is the error code MariaDB uses for progress reports, which
// are not errors and do not end a command.
const progressCode = 0xffff

func parseErr(p []byte) (e errPacket, err error) {
	r := reader{b: p, off: 1}
	e.code = r.u16("error code")
	if r.err == nil && r.left() >= 6 && r.b[r.off] == '#' {
		r.skip(1, "sql state marker")
		e.state = r.bytes(5, "sql state")
	}
	e.msg = r.rest()
	return e, r.err
}

// isEOF reports whether a packet starting with 0xfe ends a row stream or
// column definitions: a classic EOF is shorter than 9 bytes; with
// CLIENT_DEPRECATE_EOF an OK packet with header 0xfe is anything shorter
// than a full packet (a row starting with 0xfe would be a 16 MiB string).
func isEOF(m *Message, deprecateEOF bool) bool {
	if len(m.Prefix) == 0 || m.Prefix[0] != gm.EOF_HEADER {
		return false
	}
	if deprecateEOF {
		return m.Packets == 1 && m.Len < int64(gm.MaxPayloadLen)
	}
	return m.Len < 9
}
