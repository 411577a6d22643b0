package zookeeper

import "testing"

// BenchmarkRequests decodes a pipelined batch of getData and exists
// requests, as a read-heavy client sends them.
func BenchmarkRequests(b *testing.B) {
	var batch []byte
	for i := int32(1); i <= 64; i++ {
		op := OpGetData
		if i%2 == 0 {
			op = OpExists
		}
		batch = append(batch, frame{}.i32(i).i32(int32(op)).str("/zkload/n1").boolean(false).done()...)
	}
	d := NewRequestDecoder(Config{})
	if err := d.Feed(connectReq(false), func(*Request) error { return nil }); err != nil {
		b.Fatal(err)
	}
	n := 0
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Feed(batch, func(*Request) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReplies decodes a batch of 1 KiB getData replies: headers only.
func BenchmarkReplies(b *testing.B) {
	var batch []byte
	for i := int32(1); i <= 64; i++ {
		batch = append(batch, frame{}.i32(i).i64(int64(i)).i32(0).str(string(make([]byte, 1024))).done()...)
	}
	d := NewResponseDecoder(Config{})
	if err := d.Feed(connectResp(), func(*Response) error { return nil }); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Feed(batch, func(*Response) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
