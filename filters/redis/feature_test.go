package redis

import (
	"bytes"
	"testing"

	"github.com/sluice-proxy/sluice/codec/redis"
)

func TestSplitStep(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  int
	}{
		{"mset", "MSET", 2},
		{"mget", "MGET", 1},
		{"del", "DEL", 1},
		{"unlink", "UNLINK", 1},
		{"exists", "EXISTS", 1},
		{"touch", "TOUCH", 1},
		{"set", "SET", 0},
		{"rename", "RENAME", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := splitStep(redis.Lookup([]byte(tc.input))); got != tc.want {
				t.Fatalf("splitStep(%s) = %d, want %d", tc.input, got, tc.want)
			}
		})
	}
}

func TestAppendFragment(t *testing.T) {
	args := [][]byte{[]byte("MSET"), []byte("p:a"), []byte("1"), []byte("p:b"), []byte("2"), []byte("p:c"), []byte("3")}
	strip := &route{prefix: []byte("p:"), removePrefix: true}
	tests := []struct {
		name string
		keys []int
		step int
		rt   *route
		want [][]byte
	}{
		{"pairs", []int{1, 5}, 2, nil, [][]byte{[]byte("MSET"), []byte("p:a"), []byte("1"), []byte("p:c"), []byte("3")}},
		{"keys only", []int{3}, 1, nil, [][]byte{[]byte("MSET"), []byte("p:b")}},
		{"prefix removed", []int{3, 5}, 2, strip, [][]byte{[]byte("MSET"), []byte("b"), []byte("2"), []byte("c"), []byte("3")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := appendFragment(nil, args, tc.keys, tc.step, tc.rt)
			if want := redis.AppendCommand(nil, tc.want...); !bytes.Equal(got, want) {
				t.Fatalf("got %q, want %q", got, want)
			}
		})
	}
}

func TestWriteSet(t *testing.T) {
	a, b, c := &hostPool{addr: "a"}, &hostPool{addr: "b"}, &hostPool{addr: "c"}
	tests := []struct {
		name  string
		input []*hostPool
		want  []*hostPool
	}{
		{"empty", nil, nil},
		{"dedup", []*hostPool{a, a, a}, []*hostPool{a}},
		{"order kept", []*hostPool{b, a, b, c, a}, []*hostPool{b, a, c}},
	}
	var ws writeSet
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ws.reset()
			for _, hp := range tc.input {
				ws.add(hp)
			}
			if len(ws.pools) != len(tc.want) {
				t.Fatalf("pools = %v, want %v", ws.pools, tc.want)
			}
			for i := range tc.want {
				if ws.pools[i] != tc.want[i] {
					t.Fatalf("pools[%d] = %s, want %s", i, ws.pools[i].addr, tc.want[i].addr)
				}
			}
		})
	}
}

// TestNoteWriteNoAlloc: once a client has written to its hosts, noting
// further writes allocates nothing (it runs for every write command).
func TestNoteWriteNoAlloc(t *testing.T) {
	c := &client{}
	a, b := &hostPool{addr: "a"}, &hostPool{addr: "b"}
	c.noteWrite(a)
	c.noteWrite(b)
	if n := testing.AllocsPerRun(100, func() { c.noteWrite(a); c.noteWrite(b) }); n != 0 {
		t.Fatalf("noteWrite allocates %v per run", n)
	}
	c.writes().reset()
	if n := testing.AllocsPerRun(100, func() { c.noteWrite(b); c.writes().reset() }); n != 0 {
		t.Fatalf("noteWrite after a WAIT allocates %v per run", n)
	}
	if len(c.pinned) != 0 {
		t.Fatal("write tracking opened dedicated connections")
	}
}

func TestSubModeAllowed(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  bool
	}{
		{"subscribe", "SUBSCRIBE", true},
		{"ssubscribe", "SSUBSCRIBE", true},
		{"punsubscribe", "PUNSUBSCRIBE", true},
		{"ping", "PING", true},
		{"publish", "PUBLISH", false},
		{"pubsub", "PUBSUB", false},
		{"get", "GET", false},
		{"unknown", "NOSUCH", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := subModeAllowed(redis.Lookup([]byte(tc.input))); got != tc.want {
				t.Fatalf("subModeAllowed(%s) = %v, want %v", tc.input, got, tc.want)
			}
		})
	}
}

// TestBarrierReplies pins the two answers the barrier PING is matched
// against to redis-server's RESP2 encodings.
func TestBarrierReplies(t *testing.T) {
	if want := "*2\r\n$4\r\npong\r\n$16\r\n__sluice:barrier\r\n"; string(barrierSubscribed) != want {
		t.Errorf("subscribed = %q, want %q", barrierSubscribed, want)
	}
	if want := "$16\r\n__sluice:barrier\r\n"; string(barrierNormal) != want {
		t.Errorf("normal = %q, want %q", barrierNormal, want)
	}
}

func BenchmarkNoteWrite(b *testing.B) {
	c := &client{}
	pools := []*hostPool{{addr: "a"}, {addr: "b"}, {addr: "c"}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.noteWrite(pools[i%3])
	}
}

func BenchmarkAppendFragment(b *testing.B) {
	args := [][]byte{[]byte("MSET")}
	var keys []int
	for i := 0; i < 16; i++ {
		args = append(args, []byte("key:"+string(rune('a'+i))), []byte("value"))
		keys = append(keys, 1+2*i)
	}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = appendFragment(buf[:0], args, keys, 2, nil)
	}
}
