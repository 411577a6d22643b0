package httppool

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
)

// grpcFrame is msg in gRPC's length-prefixed framing, uncompressed.
func grpcFrame(msg []byte) []byte {
	b := make([]byte, 5+len(msg))
	binary.BigEndian.PutUint32(b[1:], uint32(len(msg)))
	copy(b[5:], msg)
	return b
}

// grpcUnary sends one unary gRPC call through rt and returns the response
// message; a grpc-status other than 0 is an error.
func grpcUnary(rt http.RoundTripper, path string, msg []byte) ([]byte, error) {
	req, _ := http.NewRequest("POST", "http://upstream"+path, bytes.NewReader(grpcFrame(msg)))
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	status := resp.Trailer.Get("Grpc-Status")
	if status == "" {
		status = resp.Header.Get("Grpc-Status") // trailers-only answer
	}
	if resp.StatusCode != 200 || status != "0" {
		return nil, fmt.Errorf("%s: HTTP %d grpc-status %q grpc-message %q", path, resp.StatusCode, status,
			resp.Trailer.Get("Grpc-Message")+resp.Header.Get("Grpc-Message"))
	}
	if len(body) < 5 || int(binary.BigEndian.Uint32(body[1:5])) != len(body)-5 {
		return nil, fmt.Errorf("%s: bad gRPC frame %x", path, body)
	}
	return body[5:], nil
}
