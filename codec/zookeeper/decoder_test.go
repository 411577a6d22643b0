package zookeeper

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// session is a client stream: connect, getData with a watch, create
// ephemeral, setData, delete, a multi, setauth, ping, close.
func session() ([]byte, []Request) {
	var b []byte
	b = append(b, connectReq(true)...)
	b = append(b, frame{}.i32(1).i32(int32(OpGetData)).str("/app/a").boolean(true).done()...)
	b = append(b, frame{}.i32(2).i32(int32(OpCreate)).str("/app/e").str("data").
		i32(1).i32(31).str("world").str("anyone").i32(1).done()...)
	b = append(b, frame{}.i32(3).i32(int32(OpSetData)).str("/app/a").str("v2").i32(7).done()...)
	b = append(b, frame{}.i32(4).i32(int32(OpDelete)).str("/app/e").i32(-1).done()...)
	b = append(b, frame{}.i32(5).i32(int32(OpMulti)).
		i32(int32(OpCreate)).boolean(false).i32(-1).str("/m/1").str("").i32(0).i32(0).
		i32(int32(OpCheck)).boolean(false).i32(-1).str("/m").i32(3).
		i32(-1).boolean(true).i32(-1).done()...)
	b = append(b, frame{}.i32(XidAuth).i32(int32(OpSetAuth)).i32(0).str("digest").str("u:p").done()...)
	b = append(b, frame{}.i32(XidPing).i32(int32(OpPing)).done()...)
	b = append(b, frame{}.i32(6).i32(int32(OpClose)).done()...)
	want := []Request{
		{Op: OpConnect, Size: 49, ProtocolVersion: 0, Timeout: 30000, ReadOnly: true},
		{Op: OpGetData, Xid: 1, Size: 23, Path: []byte("/app/a"), Watch: true},
		{Op: OpCreate, Xid: 2, Size: 61, Path: []byte("/app/e"), Flags: 1},
		{Op: OpSetData, Xid: 3, Size: 32, Path: []byte("/app/a"), Version: 7, HasVersion: true},
		{Op: OpDelete, Xid: 4, Size: 26, Path: []byte("/app/e"), Version: -1, HasVersion: true},
		{Op: OpMulti, Xid: 5, Size: 69, Ops: []Request{{Op: OpCreate, Xid: 5, Path: []byte("/m/1")},
			{Op: OpCheck, Xid: 5, Path: []byte("/m"), Version: 3, HasVersion: true}}},
		{Op: OpSetAuth, Xid: XidAuth, Size: 33, Scheme: []byte("digest")},
		{Op: OpPing, Xid: XidPing, Size: 12},
		{Op: OpClose, Xid: 6, Size: 12},
	}
	return b, want
}

func collect(t *testing.T, chunks [][]byte) []Request {
	t.Helper()
	d := NewRequestDecoder(Config{})
	var got []Request
	for _, c := range chunks {
		err := d.Feed(c, func(r *Request) error {
			cp := *r
			cp.Path, cp.Scheme = bytes.Clone(r.Path), bytes.Clone(r.Scheme)
			cp.Ops = nil
			for _, op := range r.Ops {
				op.Path = bytes.Clone(op.Path)
				cp.Ops = append(cp.Ops, op)
			}
			got = append(got, cp)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if d.Mid() {
		t.Fatal("decoder stopped inside a frame")
	}
	return got
}

// TestRequestsSplitEverywhere: the same requests whatever the chunking.
func TestRequestsSplitEverywhere(t *testing.T) {
	b, want := session()
	if got := collect(t, [][]byte{b}); !reflect.DeepEqual(got, want) {
		t.Fatalf("whole:\n got %+v\nwant %+v", got, want)
	}
	for i := 1; i < len(b); i++ {
		if got := collect(t, [][]byte{b[:i], b[i:]}); !reflect.DeepEqual(got, want) {
			t.Fatalf("split at %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	var bytewise [][]byte
	for i := range b {
		bytewise = append(bytewise, b[i:i+1])
	}
	if got := collect(t, bytewise); !reflect.DeepEqual(got, want) {
		t.Fatalf("bytewise:\n got %+v\nwant %+v", got, want)
	}
}

// TestResponses: connect response, a reply whose body is skipped, a watch
// event, in any chunking.
func TestResponses(t *testing.T) {
	var b []byte
	b = append(b, connectResp()...)
	b = append(b, frame{}.i32(1).i64(99).i32(0).str("a large value skipped").i32(0).done()...)
	b = append(b, frame{}.i32(XidWatchEvent).i64(100).i32(0).i32(3).i32(3).str("/app/a").done()...)
	b = append(b, frame{}.i32(2).i64(101).i32(ErrNoNode).done()...)
	want := []Response{
		{Connect: true, Size: 41, Timeout: 4000, SessionID: 0x1234},
		{Xid: 1, Zxid: 99, Size: 49},
		{Xid: XidWatchEvent, Zxid: 100, Size: 38, Event: true, EventType: 3, State: 3, Path: []byte("/app/a")},
		{Xid: 2, Zxid: 101, Err: ErrNoNode, Size: 20},
	}
	for i := 0; i < len(b); i++ {
		d := NewResponseDecoder(Config{})
		var got []Response
		for _, c := range [][]byte{b[:i], b[i:]} {
			if err := d.Feed(c, func(r *Response) error {
				cp := *r
				cp.Path = bytes.Clone(r.Path)
				got = append(got, cp)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("split at %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
}

// TestBadFrames: oversized, negative and truncated frames are errors that
// stick, with the opcode when known.
func TestBadFrames(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []byte
		max     int
		wantErr error
		wantOp  Opcode
	}{
		{"too large", append(connectReq(false), frame{}.i32(1).i32(int32(OpGetData)).str("/x").boolean(false).done()...), 44, ErrTooLarge, OpError},
		{"at limit", append(connectReq(false), frame{}.i32(1).i32(int32(OpGetData)).str("/x").boolean(false).done()...), 45, nil, 0},
		{"negative", append(connectReq(false), 0xff, 0xff, 0xff, 0xfe), 0, ErrBadLength, OpError},
		{"truncated path", append(connectReq(false), frame{}.i32(1).i32(int32(OpGetData)).i32(50).str("/x").done()...), 0, ErrTruncated, OpGetData},
		{"truncated connect", frame{}.i32(0).i64(0).done(), 0, ErrTruncated, OpConnect},
		{"bad multi op", append(connectReq(false), frame{}.i32(1).i32(int32(OpMulti)).i32(77).boolean(false).i32(-1).done()...), 0, ErrBadField, OpMulti},
		{"huge acl count", append(connectReq(false), frame{}.i32(1).i32(int32(OpCreate)).str("/x").str("").i32(1<<30).done()...), 0, ErrBadField, OpCreate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewRequestDecoder(Config{MaxPacketBytes: tc.max})
			err := d.Feed(tc.in, func(*Request) error { return nil })
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var fe *FrameError
			if !errors.As(err, &fe) || !errors.Is(err, tc.wantErr) || fe.Op != tc.wantOp {
				t.Fatalf("err = %v, want %v on %v", err, tc.wantErr, tc.wantOp)
			}
			if err2 := d.Feed([]byte{0}, func(*Request) error { return nil }); err2 != err {
				t.Fatalf("error did not stick: %v", err2)
			}
		})
	}
}

// TestErrPatcher: the err field of chosen replies is rewritten in any
// chunking, the connect response and other replies untouched.
func TestErrPatcher(t *testing.T) {
	var b []byte
	b = append(b, connectResp()...)
	b = append(b, AppendReply(nil, 7, 50, ErrNoNode)...)
	b = append(b, frame{}.i32(8).i64(51).i32(0).str("body").done()...)
	b = append(b, AppendReply(nil, 9, 52, -8)...)
	want := append([]byte(nil), connectResp()...)
	want = append(want, AppendReply(nil, 7, 50, ErrNoAuth)...)
	want = append(want, frame{}.i32(8).i64(51).i32(0).str("body").done()...)
	want = append(want, AppendReply(nil, 9, 52, ErrNoAuth)...)
	for i := 0; i <= len(b); i++ {
		p := append([]byte(nil), b...)
		var e ErrPatcher
		match := func(x int32) bool { return x == 7 || x == 9 }
		e.Patch(p[:i], match, ErrNoAuth)
		e.Patch(p[i:], match, ErrNoAuth)
		if string(p) != string(want) {
			t.Fatalf("split at %d:\n got %x\nwant %x", i, p, want)
		}
	}
}

// TestAppendExists decodes the replacement request.
func TestAppendExists(t *testing.T) {
	b := append(connectReq(false), AppendExists(nil, 42, "/\x00denied", false)...)
	got := collect(t, [][]byte{b})
	if len(got) != 2 || got[1].Op != OpExists || got[1].Xid != 42 || string(got[1].Path) != "/\x00denied" {
		t.Fatalf("got %+v", got)
	}
}

// TestLongReply: a reply longer than MaxPacketBytes passes (its body is not
// held); a watch event that long is refused.
func TestLongReply(t *testing.T) {
	long := make([]byte, 300)
	in := append(connectResp(), frame{}.i32(3).i64(9).i32(0).str(string(long)).done()...)
	d := NewResponseDecoder(Config{MaxPacketBytes: 100})
	var got []int32
	if err := d.Feed(in, func(r *Response) error { got = append(got, r.Xid); return nil }); err != nil || len(got) != 2 || got[1] != 3 {
		t.Fatalf("long reply: %v, %v", got, err)
	}
	err := d.Feed(frame{}.i32(XidWatchEvent).i64(9).i32(0).i32(3).i32(3).str(string(long)).done(), func(*Response) error { return nil })
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("long event: %v", err)
	}
}

// TestFourLetterWord: a stream starting with a four-letter word is
// reported once and not framed, in any chunking; one that only looks like
// it later is framed.
func TestFourLetterWord(t *testing.T) {
	for _, chunks := range [][][]byte{{[]byte("ruok")}, {[]byte("sr"), []byte("vr\n")}, {[]byte("m"), []byte("ntr"), []byte("more")}} {
		d := NewRequestDecoder(Config{})
		var got []string
		for _, c := range chunks {
			if err := d.Feed(c, func(r *Request) error { got = append(got, r.Op.Name()+":"+string(r.Word)); return nil }); err != nil {
				t.Fatal(err)
			}
		}
		if len(got) != 1 || !d.Word() || d.Mid() {
			t.Fatalf("%q: %v (word %v, mid %v)", chunks, got, d.Word(), d.Mid())
		}
	}
	d := NewRequestDecoder(Config{})
	b := append(connectReq(false), []byte("ruok")...)
	if err := d.Feed(b, func(*Request) error { return nil }); !errors.Is(err, ErrTooLarge) || d.Word() {
		t.Fatalf("ruok after connect: %v, word %v", err, d.Word())
	}
}
