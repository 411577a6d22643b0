package grpchttp1bridge

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzHoldWriter writes an upstream body in pieces through the bridge's
// writer, with and without unframing, and checks the answer: the whole
// body (less the first 5 bytes when unframing) and its Content-Length, or
// 500 past the limit; a non-zero status maps to 503. Seeded with a
// grpc-go SimpleResponse frame as TestCurlUnary received it.
func FuzzHoldWriter(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 5, 0x12, 0x03, 0x12, 0x01, 0}, uint8(2), true, "0")
	f.Add([]byte{0, 0, 0}, uint8(1), true, "5")
	f.Add([]byte("plain"), uint8(9), false, "x")
	f.Fuzz(func(t *testing.T, b []byte, cut uint8, unframe bool, code string) {
		x := &holdWriter{h: http.Header{}, unframe: unframe}
		x.h.Set("Trailer", "Grpc-Status")
		x.WriteHeader(200)
		step := int(cut%32) + 1
		for i := 0; i < len(b); i += step {
			x.Write(b[i:min(i+step, len(b))])
		}
		x.h.Set("Grpc-Status", code)
		rec := httptest.NewRecorder()
		x.answer(rec, nil)
		want := b
		if unframe {
			want = b[min(5, len(b)):]
		}
		if !bytes.Equal(rec.Body.Bytes(), want) || rec.Header().Get("Content-Length") == "" {
			t.Fatalf("body %q, want %q (%v)", rec.Body.Bytes(), want, rec.Header())
		}
		if wantCode := map[bool]int{true: 200, false: 503}[code == "0" || code == ""]; rec.Code != wantCode {
			t.Fatalf("status %q answered %d", code, rec.Code)
		}
	})
}
