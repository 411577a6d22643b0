package zookeeper

import "encoding/binary"

// AppendExists appends an exists request frame (xid, path, watch) to dst.
// A gate replaces a refused request with one on a path that cannot exist,
// so that the server answers it in order with an error (see ErrPatcher).
func AppendExists(dst []byte, xid int32, path string, watch bool) []byte {
	n := 4 + 4 + 4 + len(path) + 1
	dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	dst = binary.BigEndian.AppendUint32(dst, uint32(xid))
	dst = binary.BigEndian.AppendUint32(dst, uint32(OpExists))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(path)))
	dst = append(dst, path...)
	if watch {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// AppendReply appends a header-only reply frame (an error reply) to dst.
func AppendReply(dst []byte, xid int32, zxid int64, err int32) []byte {
	dst = binary.BigEndian.AppendUint32(dst, headerLen)
	dst = binary.BigEndian.AppendUint32(dst, uint32(xid))
	dst = binary.BigEndian.AppendUint64(dst, uint64(zxid))
	return binary.BigEndian.AppendUint32(dst, uint32(err))
}

// ErrPatcher rewrites, in place, the error field of the server's replies
// whose xid a predicate picks, as the bytes pass in any chunking. The
// first frame (the connect response) is never touched. Its zero value is
// ready; it is not safe for concurrent use.
type ErrPatcher struct {
	lenBuf  [4]byte
	nLen    int
	inBody  bool
	n, off  int
	xid     [4]byte
	started bool
	patch   bool
}

// Patch rewrites the err field of each reply in p for which match(xid)
// holds to code; match is called once per reply, when its xid is complete.
func (e *ErrPatcher) Patch(p []byte, match func(xid int32) bool, code int32) {
	var cb [4]byte
	binary.BigEndian.PutUint32(cb[:], uint32(code))
	for i := 0; i < len(p); {
		if !e.inBody {
			k := copy(e.lenBuf[e.nLen:], p[i:])
			e.nLen += k
			i += k
			if e.nLen < 4 {
				return
			}
			e.nLen = 0
			e.n = int(int32(binary.BigEndian.Uint32(e.lenBuf[:])))
			e.inBody, e.off, e.patch = e.n > 0, 0, false
			if !e.inBody {
				e.started = true
			}
			continue
		}
		switch {
		case e.off < 4:
			e.xid[e.off] = p[i]
			if e.off == 3 && e.started {
				e.patch = match(int32(binary.BigEndian.Uint32(e.xid[:])))
			}
		case e.off >= 12 && e.off < headerLen && e.patch:
			p[i] = cb[e.off-12]
		}
		if e.off >= headerLen-1 || e.off == e.n-1 {
			// Past the header: skip the rest of the frame at once.
			skip := min(len(p)-i, e.n-e.off)
			i += skip
			e.off += skip
		} else {
			i++
			e.off++
		}
		if e.off >= e.n {
			e.inBody = false
			e.started = true
		}
	}
}
