package grpcweb

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzTextCodec writes a response body through the text encoder in pieces,
// flushing after some of them (a server stream's messages), and checks
// that the padded pieces decode, with the request decoder, to the bytes
// written plus the trailer frame; and that the request decoder never
// accepts what the standard decoder refuses as one piece. Seeds: a
// grpc-go SimpleResponse frame and trailer block as the filter sent them
// in TestUnary, and a grpc-web-text request body from the same test.
func FuzzTextCodec(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 9, 0x12, 0x03, 'r', 'r', 'r', 0x1a, 0x01, '0', 0x22, 0x00}, uint8(3), uint8(2))
	f.Add([]byte("\x80\x00\x00\x00\x1dgrpc-status:0\r\nx-trailer:t1\r\n"), uint8(7), uint8(1))
	f.Add([]byte("AAAAAAIaAA=="), uint8(1), uint8(5))
	f.Fuzz(func(t *testing.T, b []byte, cut, flushEvery uint8) {
		rec := httptest.NewRecorder()
		x := &writer{w: rec, h: http.Header{}, text: true}
		x.h.Set("Content-Type", "application/grpc")
		x.h.Set("Trailer", "Grpc-Status")
		step := int(cut%32) + 1
		for i, n := 0, 0; i < len(b); i, n = i+step, n+1 {
			x.Write(b[i:min(i+step, len(b))])
			if flushEvery > 0 && n%int(flushEvery) == 0 {
				x.Flush()
			}
		}
		x.h.Set("Grpc-Status", "0")
		if code := x.finish(); code != "0" {
			t.Fatalf("status %q", code)
		}
		got, ok := decodeSegments(rec.Body.Bytes())
		if !ok {
			t.Fatalf("the encoder's output does not decode: %q", rec.Body.Bytes())
		}
		want := append(bytes.Clone(b), "\x80\x00\x00\x00\x0fgrpc-status:0\r\n"...)
		if !bytes.Equal(got, want) {
			t.Fatalf("decoded %q, wrote %q", got, want)
		}
		if out, ok := decodeSegments(b); ok && bytes.IndexByte(b, '=') < 0 {
			std, err := base64.StdEncoding.Strict().DecodeString(string(b))
			if err != nil || !bytes.Equal(std, out) {
				t.Fatalf("decoded %q from %q; standard: %q %v", out, b, std, err)
			}
		}
	})
}
