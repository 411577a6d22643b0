package redis

import (
	"strings"
	"testing"

	"github.com/tidwall/redcon"
)

// BenchmarkRequestReader parses redis-benchmark style -P 16 pipelines of
// SET/GET; one op is one pipeline of 16 commands.
func BenchmarkRequestReader(b *testing.B) {
	p := pipeline(16)
	r := NewReader(&loopReader{data: p}, Limits{})
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		for range 16 {
			if _, err := r.ReadCommand(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkRequestRedcon is the same workload through redcon.Reader.
func BenchmarkRequestRedcon(b *testing.B) {
	p := pipeline(16)
	rd := redcon.NewReader(&loopReader{data: p})
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	pending := 0
	for b.Loop() {
		for pending < 16 {
			cmds, err := rd.ReadCommands()
			if err != nil {
				b.Fatal(err)
			}
			pending += len(cmds)
		}
		pending -= 16
	}
}

// BenchmarkRequestRoute adds what a proxy does per command: table lookup,
// key positions and the hash slot.
func BenchmarkRequestRoute(b *testing.B) {
	p := pipeline(16)
	r := NewReader(&loopReader{data: p}, Limits{})
	keys := make([]int, 0, 8)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		for range 16 {
			cmd, err := r.ReadCommand()
			if err != nil {
				b.Fatal(err)
			}
			ci := cmd.Info()
			keys, err = ci.AppendKeyIndexes(keys[:0], cmd.Args)
			if err != nil || HashSlot(cmd.Args[keys[0]]) < 0 {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkRequestInline(b *testing.B) {
	line := []byte("SET key:000000000042 \"x y z\"\r\n")
	r := NewReader(&loopReader{data: line}, Limits{})
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.ReadCommand(); err != nil {
			b.Fatal(err)
		}
	}
}

var typicalReplies = []struct{ name, reply string }{
	{"ok", "+OK\r\n"},
	{"int", ":1\r\n"},
	{"bulk100", "$100\r\n" + strings.Repeat("v", 100) + "\r\n"},
	{"null", "$-1\r\n"},
	{"mget16", func() string {
		s := "*16\r\n"
		for range 16 {
			s += "$16\r\nvalue:0000000042\r\n"
		}
		return s
	}()},
	{"hgetall_resp3", "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"},
}

func BenchmarkFrameReply(b *testing.B) {
	for _, tc := range typicalReplies {
		in := []byte(tc.reply)
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if n, err := FrameReply(in); n != len(in) || err != nil {
					b.Fatal(n, err)
				}
			}
		})
	}
}

func BenchmarkDecodeReply(b *testing.B) {
	for _, tc := range typicalReplies {
		in := []byte(tc.reply)
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, n, err := DecodeReply(in); n != len(in) || err != nil {
					b.Fatal(n, err)
				}
			}
		})
	}
}

func BenchmarkHashSlot(b *testing.B) {
	for _, key := range []string{"key:000000000042", "{user1000}.followers", strings.Repeat("k", 256)} {
		k := []byte(key)
		b.Run(key[:min(len(key), 20)], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = HashSlot(k)
			}
		})
	}
}

func BenchmarkLookup(b *testing.B) {
	name := []byte("zrangebyscore")
	b.ReportAllocs()
	for b.Loop() {
		if Lookup(name) == nil {
			b.Fatal("missing")
		}
	}
}

// BenchmarkRequestLargeBulk reads a 16 MiB SET arriving in 64 KiB reads:
// B/op shows the buffer growth (doubling, capped at the value's end).
func BenchmarkRequestLargeBulk(b *testing.B) {
	cmd := AppendCommand(nil, []byte("SET"), []byte("k"), make([]byte, 16<<20))
	b.SetBytes(int64(len(cmd)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(&chunkReader{data: cmd, chunk: 64 << 10}, Limits{})
		if c, err := r.ReadCommand(); err != nil || len(c.Args[2]) != 16<<20 {
			b.Fatal(err)
		}
	}
}
