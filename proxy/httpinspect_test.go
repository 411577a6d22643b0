package proxy

import "testing"

func TestDetectHTTP(t *testing.T) {
	tests := []struct {
		in, want string
		done     bool
	}{
		{"GET / HTTP/1.1\r\nHost: x\r\n", "http/1.1", true},
		{"POST /a?b HTTP/1.0\r\n", "http/1.0", true},
		{"GET / HTTP/1.1\n", "http/1.1", true},
		{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "h2c", true},
		{"PRI * HTTP/2.0\r\n", "", false},
		{"GET / HTT", "", false},
		{"GE", "", false},
		{"*1\r\n$4\r\nPING\r\n", "", true},
		{"\x16\x03\x01\x02\x00", "", true},
		{"GET / HTTP/2.0\r\n", "", true},
		{"GET  / HTTP/1.1\r\n", "", true},
		{"", "", false},
	}
	for _, tt := range tests {
		got, done := detectHTTP([]byte(tt.in))
		if got != tt.want || done != tt.done {
			t.Errorf("%q: got %q, %v; want %q, %v", tt.in, got, done, tt.want, tt.done)
		}
	}
}

// FuzzHTTPInspector: any prefix gets an answer or a request for more
// bytes, never a panic, and a decided answer stays once more bytes come.
func FuzzHTTPInspector(f *testing.F) {
	for _, s := range []string{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "*1\r\n$4\r\nPING\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for i := range b {
			p, done := detectHTTP(b[:i])
			if done {
				if q, _ := detectHTTP(b); q != p {
					t.Fatalf("%q decided %q, then %q with more bytes", b[:i], p, q)
				}
				return
			}
		}
	})
}
