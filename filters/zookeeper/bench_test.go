package zookeeper

import (
	"testing"

	zk "github.com/sluice-proxy/sluice/codec/zookeeper"
)

// BenchmarkObserve is the per-request cost of observing a getData and its
// 128-byte reply, as the event loop's callbacks run them.
func BenchmarkObserve(b *testing.B) {
	f, _ := newTestFilter(b, nil)
	s := newSession()
	c := newConn(f, s, &fakeConn{})
	if err := c.feedReq(connectRq(false)); err != nil {
		b.Fatal(err)
	}
	if err := c.feedResp(connectRsp(false)); err != nil {
		b.Fatal(err)
	}
	req := rec{}.i32(7).i32(int32(zk.OpGetData)).str("/zkload/n1").b(false).frame()
	rsp := rec{}.i32(7).i64(99).i32(0).str(string(make([]byte, 128))).i64(0).i64(0).i64(0).i64(0).i32(0).i32(0).i32(0).i64(0).i32(128).i32(0).i64(0).frame()
	b.SetBytes(int64(len(req) + len(rsp)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.feedReq(req); err != nil {
			b.Fatal(err)
		}
		if err := c.feedResp(rsp); err != nil {
			b.Fatal(err)
		}
	}
}
