package postgres

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
)

// TestUpstreamSSLAnswer runs the upstream wrapper against a fake server
// that answers the SSLRequest with one byte and then reads what follows.
func TestUpstreamSSLAnswer(t *testing.T) {
	tests := []struct {
		name    string
		mode    string
		answer  byte
		wantErr bool
		want    map[string]uint64
	}{
		{name: "prefer, server refuses: clear text", mode: UpstreamSSLPrefer, answer: 'N',
			want: map[string]uint64{"sessions_upstream_ssl_refused": 1, "sessions_upstream_ssl_failed": 0}},
		{name: "require, server refuses: fails", mode: UpstreamSSLRequire, answer: 'N', wantErr: true,
			want: map[string]uint64{"sessions_upstream_ssl_refused": 0, "sessions_upstream_ssl_failed": 1}},
		{name: "prefer, error answer: fails", mode: UpstreamSSLPrefer, answer: 'E', wantErr: true,
			want: map[string]uint64{"sessions_upstream_ssl_refused": 0, "sessions_upstream_ssl_failed": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, st := newTestFilter(t, func(c *Config) { c.UpstreamSSL = tt.mode })
			client, server := net.Pipe()
			defer client.Close()
			got := make(chan []byte, 1)
			go func() {
				defer server.Close()
				req := make([]byte, 8)
				if _, err := io.ReadFull(server, req); err != nil || !bytes.Equal(req, sslRequest[:]) {
					got <- nil
					return
				}
				server.Write([]byte{tt.answer})
				rest := make([]byte, 5)
				n, _ := io.ReadFull(server, rest)
				got <- rest[:n]
			}()
			up, err := f.upstreamSSL(context.Background(), client)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil {
				if up != client {
					t.Fatal("prefer after 'N' must return the plain connection")
				}
				up.Write([]byte("hello"))
			} else {
				client.Close()
			}
			if rest := <-got; err == nil && string(rest) != "hello" {
				t.Errorf("server read %q after its answer, want the clear-text bytes", rest)
			}
			for k, v := range counters(st, tt.want) {
				if v != tt.want[k] {
					t.Errorf("%s = %d, want %d", k, v, tt.want[k])
				}
			}
		})
	}
}
