package proxy

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
)

// TestProxyHeaderCaptures reads headers haproxy 2.6 sent (send-proxy,
// send-proxy-v2, with the unique-id and SSL TLVs) and checks the addresses,
// the TLV rules and pass-through, and that the client's bytes after the
// header are kept.
func TestProxyHeaderCaptures(t *testing.T) {
	cfg := &config.ProxyProtocolConfig{
		Rules:           []config.ProxyProtocolRule{{TLVType: 5, OnTLVPresent: config.ProxyProtocolKeyVal{Key: "unique_id"}}},
		PassThroughTLVs: &config.PassThroughTLVs{MatchType: "INCLUDE", TLVType: []uint32{0x20}},
	}
	tests := []struct {
		file, remote, uniqueID string
		tlvs                   int
	}{
		{"haproxy-send-proxy.bin", "127.0.0.1:59248", "", 0},
		{"haproxy-send-proxy-v2.bin", "127.0.0.1:39882", "", 0},
		{"haproxy-send-proxy-v2-unique-id.bin", "127.0.0.1:37058", "req-2", 0},
		{"haproxy-send-proxy-v2-ssl.bin", "127.0.0.1:35298", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata/proxyproto", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			h, rest, _, err := readProxyHeader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if string(rest) != "PING\r\n" {
				t.Fatalf("bytes after the header: %q", rest)
			}
			lc := &lfConn{facts: &connFacts{}, s: &filters.Session{Log: slog.Default()}}
			if err := newProxyProtocol(cfg, nil).apply(h, lc); err != nil {
				t.Fatal(err)
			}
			if got := lc.s.Remote.String(); got != tt.remote {
				t.Fatalf("remote %s, want %s", got, tt.remote)
			}
			if lc.facts.remote != lc.s.Remote || !lc.s.Local.IsValid() {
				t.Fatalf("facts %v, local %v", lc.facts.remote, lc.s.Local)
			}
			m, _ := lc.s.Metadata(proxyProtocolNS)
			mm, _ := m.(map[string]any)
			got, _ := mm["unique_id"].(string)
			if got != tt.uniqueID {
				t.Fatalf("unique_id metadata %q, want %q", got, tt.uniqueID)
			}
			if len(lc.s.ProxyTLVs) != tt.tlvs {
				t.Fatalf("passed-through TLVs %v, want %d", lc.s.ProxyTLVs, tt.tlvs)
			}
		})
	}
}

// TestProxyHeaderBad: malformed headers are errors, never panics; no
// header at all is told apart (allow_requests_without_proxy_protocol).
func TestProxyHeaderBad(t *testing.T) {
	for _, in := range []string{
		"PROXY TCP4 1.2.3.4\r\n",
		"PROXY TCP4 999.0.0.1 1.2.3.4 1 2\r\n",
		"PROXY TCP4 1.2.3.4 1.2.3.4 1 2" + strings.Repeat(" ", 120) + "\r\n",
		"\r\n\r\n\x00\r\nQUIT\n\x21\x11\xff\xff",
		"\r\n\r\n\x00\r\nQUIT\n\x31\x11\x00\x0c",
	} {
		if _, _, _, err := readProxyHeader(strings.NewReader(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	_, rest, _, err := readProxyHeader(strings.NewReader("GET / HTTP/1.1\r\n\r\n"))
	if err == nil || string(rest) != "GET / HTTP/1.1\r\n\r\n" {
		t.Fatalf("no header: err %v, rest %q", err, rest)
	}
}

// FuzzProxyProtocol feeds the PROXY header reader and the filter's use of
// a header (addresses, TLV rules) arbitrary bytes, seeded from haproxy's
// real headers.
func FuzzProxyProtocol(f *testing.F) {
	files, _ := filepath.Glob("testdata/proxyproto/*.bin")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("PROXY UNKNOWN\r\n"))
	f.Add([]byte("PROXY TCP6 ::1 ::1 1 2\r\n"))
	cfg := &config.ProxyProtocolConfig{
		Rules:           []config.ProxyProtocolRule{{TLVType: 5, OnTLVPresent: config.ProxyProtocolKeyVal{Key: "k"}}},
		PassThroughTLVs: &config.PassThroughTLVs{},
	}
	pp := newProxyProtocol(cfg, nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		h, rest, _, err := readProxyHeader(bytes.NewReader(data))
		if len(rest) > len(data) {
			t.Fatalf("rest longer than the input")
		}
		if err != nil {
			return
		}
		lc := &lfConn{facts: &connFacts{}, s: &filters.Session{Log: slog.Default()}}
		_ = pp.apply(h, lc)
	})
}

// BenchmarkReadProxyHeaderV2: haproxy's send-proxy-v2 header with the
// client's first bytes behind it, as the listener filter reads it.
func BenchmarkReadProxyHeaderV2(b *testing.B) {
	data, err := os.ReadFile("testdata/proxyproto/haproxy-send-proxy-v2-ssl.bin")
	if err != nil {
		b.Fatal(err)
	}
	r := bytes.NewReader(data)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(data)
		if _, _, _, err := readProxyHeader(r); err != nil {
			b.Fatal(err)
		}
	}
}
