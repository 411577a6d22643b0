package redis

import (
	"reflect"
	"testing"
)

func TestParseRedirect(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		want   Redirect
		wantOK bool
	}{
		{name: "moved", input: "MOVED 3999 127.0.0.1:6381", want: Redirect{Slot: 3999, Addr: []byte("127.0.0.1:6381")}, wantOK: true},
		{name: "ask wire", input: "-ASK 0 redis-1.svc:7000\r\n", want: Redirect{Ask: true, Addr: []byte("redis-1.svc:7000")}, wantOK: true},
		{name: "ipv6", input: "MOVED 16383 ::1:6379", want: Redirect{Slot: 16383, Addr: []byte("::1:6379")}, wantOK: true},
		{name: "empty host", input: "MOVED 1 :6379", want: Redirect{Slot: 1, Addr: []byte(":6379")}, wantOK: true},
		{name: "slot out of range", input: "MOVED 16384 h:1"},
		{name: "negative slot", input: "MOVED -1 h:1"},
		{name: "no port", input: "MOVED 1 host"},
		{name: "no addr", input: "MOVED 1"},
		{name: "other error", input: "ERR MOVED 1 h:1"},
		{name: "lowercase", input: "moved 1 h:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseRedirect([]byte(tt.input))
			if ok != tt.wantOK || (ok && !reflect.DeepEqual(got, tt.want)) {
				t.Fatalf("got %+v %v, want %+v %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestParseClusterSlots(t *testing.T) {
	reply := "*2\r\n" +
		"*4\r\n:0\r\n:5460\r\n*4\r\n$9\r\n127.0.0.1\r\n:30001\r\n$2\r\nid\r\n%1\r\n$8\r\nhostname\r\n$2\r\nh1\r\n" +
		"*3\r\n$0\r\n\r\n:30004\r\n$3\r\nid2\r\n" +
		"*3\r\n:5461\r\n:16383\r\n*2\r\n$1\r\n?\r\n:30002\r\n"
	v, n, err := DecodeReply([]byte(reply))
	if err != nil || n != len(reply) {
		t.Fatal(n, err)
	}
	got, err := ParseClusterSlots(v)
	if err != nil {
		t.Fatal(err)
	}
	want := []SlotRange{
		{Start: 0, End: 5460, Nodes: []NodeAddr{{Host: "127.0.0.1", Port: 30001, ID: "id"}, {Port: 30004, ID: "id2"}}},
		{Start: 5461, End: 16383, Nodes: []NodeAddr{{Host: "?", Port: 30002}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	bad := []struct{ name, input string }{
		{"error", "-ERR This instance has cluster support disabled\r\n"},
		{"not array", "+OK\r\n"},
		{"short entry", "*1\r\n*2\r\n:0\r\n:1\r\n"},
		{"bad range", "*1\r\n*3\r\n:5\r\n:1\r\n*2\r\n$1\r\nh\r\n:1\r\n"},
		{"bad port", "*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\nh\r\n:70000\r\n"},
	}
	for _, b := range bad {
		v, _, err := DecodeReply([]byte(b.input))
		if err != nil {
			t.Fatalf("%s: %v", b.name, err)
		}
		if _, err := ParseClusterSlots(v); err == nil {
			t.Errorf("%s: no error", b.name)
		}
	}
}
