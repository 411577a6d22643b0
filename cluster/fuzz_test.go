package cluster

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzRedisReply feeds arbitrary server bytes to the Redis probe's reply
// check: it must never panic, must pass exactly when the first line is
// "+PONG", and must call a missing line a network failure.
func FuzzRedisReply(f *testing.F) {
	for _, s := range []string{"+PONG\r\n", "-LOADING Redis is loading\r\n", ":0\r\n", "+PONG", "", "+PONG\r\n+PONG\r\n", "$4\r\nPONG\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := checkRedisReply(bytes.NewReader(data), "+PONG")
		line, _, found := bytes.Cut(data, []byte("\n"))
		found = found && len(line) < maxRedisLine
		want := found && strings.TrimRight(string(line)+"\n", "\r\n") == "+PONG"
		if (err == nil) != want {
			t.Fatalf("%q: err %v, want pass %v", data, err, want)
		}
		if err != nil && !found && !isNetworkFailure(err) {
			t.Fatalf("%q: a missing line must be a network failure: %v", data, err)
		}
	})
}

// FuzzTCPReceive checks the tcp_health_check matcher against a naive one.
func FuzzTCPReceive(f *testing.F) {
	f.Add([]byte("xxPOyyNGzz"), []byte("PO"), []byte("NG"))
	f.Add([]byte("ab"), []byte("ab"), []byte("b"))
	f.Add([]byte(""), []byte(""), []byte("x"))
	f.Fuzz(func(t *testing.T, data, a, b []byte) {
		got := fuzzyMatch(data, [][]byte{a, b})
		// Naive: a occurs, and b occurs after the first occurrence of a.
		i := bytes.Index(data, a)
		want := i >= 0 && bytes.Contains(data[i+len(a):], b)
		if got != want {
			t.Fatalf("fuzzyMatch(%q, %q, %q) = %v, want %v", data, a, b, got, want)
		}
	})
}
