package grpcweb

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
)

// decodeTextBody replaces a grpc-web-text request's body by its decoded
// bytes, or answers the request itself and returns false: 400 for bad
// base64 (Envoy's reply and message), 413 over maxTextRequest.
func decodeTextBody(w http.ResponseWriter, r *http.Request) bool {
	var raw []byte
	if r.Body != nil {
		var err error
		raw, err = io.ReadAll(io.LimitReader(r.Body, maxTextRequest+1))
		r.Body.Close()
		if err != nil {
			reject(w, r, http.StatusBadRequest, "Bad gRPC-web request, reading the body failed.")
			return false
		}
	}
	if len(raw) > maxTextRequest {
		reject(w, r, http.StatusRequestEntityTooLarge, "Payload Too Large")
		return false
	}
	out, ok := decodeSegments(raw)
	if !ok {
		reject(w, r, http.StatusBadRequest, "Bad gRPC-web request, invalid base64 data.")
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(out))
	r.ContentLength = int64(len(out))
	r.Header.Set("Content-Length", strconv.Itoa(len(out)))
	return true
}

// decodeSegments decodes base64 that may be several padded pieces one
// after another (a client may encode each frame alone); padding is
// mandatory, so the length is a multiple of 4.
func decodeSegments(b []byte) ([]byte, bool) {
	if len(b)%4 != 0 {
		return nil, false
	}
	out := make([]byte, 0, len(b)/4*3)
	for len(b) > 0 {
		end := len(b)
		if j := bytes.IndexByte(b, '='); j >= 0 {
			end = (j/4 + 1) * 4 // the quantum holding the first pad ends the piece
		}
		dst := make([]byte, base64.StdEncoding.DecodedLen(end))
		n, err := base64.StdEncoding.Strict().Decode(dst, b[:end])
		if err != nil {
			return nil, false
		}
		out = append(out, dst[:n]...)
		b = b[end:]
	}
	return out, true
}

// reject answers a gRPC-Web request the filter cannot forward, shaped as
// the filter shapes any non-gRPC answer (grpc-status from the HTTP status,
// the text as grpc-message).
func reject(w http.ResponseWriter, r *http.Request, status int, msg string) {
	accept := r.Header.Get("Accept")
	ww := &writer{w: w, h: http.Header{}, text: accept == ctWebText || accept == ctWebTextProto}
	ww.h.Set("Content-Type", "text/plain")
	ww.WriteHeader(status)
	ww.Write([]byte(msg))
	ww.finish()
}
