package httpconn

import (
	"net/http"
	"strconv"
	"strings"

	httpfilter "github.com/sluice-proxy/sluice/filters/http"
)

// grpcLocalReply answers a gRPC request with a trailers-only response, as
// Envoy turns its local replies for gRPC requests: HTTP 200, grpc-status
// from the HTTP status, grpc-message the body.
func (m *Manager) grpcLocalReply(w http.ResponseWriter, status int, body string) {
	m.grpcLocalReplyCode(w, httpfilter.GRPCStatusOf(status), body)
}

// grpcLocalReplyCode is grpcLocalReply with the gRPC status given.
func (m *Manager) grpcLocalReplyCode(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	h.Set("Content-Type", "application/grpc")
	h.Set("Grpc-Status", strconv.Itoa(code))
	if body != "" {
		h.Set("Grpc-Message", grpcEncodeMessage(body))
	}
	m.serverHeader(h, false)
	w.WriteHeader(http.StatusOK)
}

// grpcEncodeMessage percent-encodes what gRPC's grpc-message may not carry
// raw: bytes outside printable ASCII, and '%'.
func grpcEncodeMessage(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '%' {
			b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(c)|0x100, 16)[1:]))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// grpcTrailerKeys are what a gRPC trailers-only response carries that
// belongs in trailers.
var grpcTrailerKeys = []string{"Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin"}

// trailersOnly turns an upstream trailers-only gRPC response (its status in
// the one HEADERS frame, which ends the stream) into headers and trailers.
// The reverse proxy flushes the head of a streamed response from a timer,
// so it may go out before the handler ends and the status would then sit
// in headers that do not end the stream, which gRPC clients refuse
// ("server closed the stream without sending trailers"). As real trailers
// the status arrives whatever the timing.
func trailersOnly(resp *http.Response) {
	if resp.Header.Get("Grpc-Status") == "" {
		return
	}
	for _, k := range grpcTrailerKeys {
		if v, ok := resp.Header[k]; ok {
			if resp.Trailer == nil {
				resp.Trailer = http.Header{}
			}
			resp.Trailer[k] = v
			delete(resp.Header, k)
		}
	}
}
