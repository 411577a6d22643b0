package zookeeper

import "encoding/binary"

// frame builds jute records for tests.
type frame []byte

func (f frame) i32(v int32) frame  { return binary.BigEndian.AppendUint32(f, uint32(v)) }
func (f frame) i64(v int64) frame  { return binary.BigEndian.AppendUint64(f, uint64(v)) }
func (f frame) str(s string) frame { return append(f.i32(int32(len(s))), s...) }
func (f frame) boolean(b bool) frame {
	if b {
		return append(f, 1)
	}
	return append(f, 0)
}

// done prefixes the length.
func (f frame) done() []byte { return append(binary.BigEndian.AppendUint32(nil, uint32(len(f))), f...) }

func connectReq(readonly bool) []byte {
	return frame{}.i32(0).i64(0).i32(30000).i64(0).str("0123456789abcdef").boolean(readonly).done()
}

func connectResp() []byte {
	return frame{}.i32(0).i32(4000).i64(0x1234).str("0123456789abcdef").boolean(false).done()
}
