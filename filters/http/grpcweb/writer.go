package grpcweb

import (
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"sort"
	"strconv"
	"strings"

	httpfilter "github.com/sluice-proxy/sluice/filters/http"
)

// maxMessageBody is how much of a non-gRPC response body becomes
// grpc-message (Envoy's MAX_BUFFERED_PLAINTEXT_LENGTH).
const maxMessageBody = 16384

// writer turns the gRPC response the router writes into gRPC-Web. The
// router writes into its own header map h; the head goes to w at the first
// body byte or flush, without Trailer, trailer keys and Content-Length.
type writer struct {
	w      http.ResponseWriter
	h      http.Header
	text   bool // base64 body (grpc-web-text)
	status int  // 0 until WriteHeader
	sent   bool // head written to w
	// transform: the response is not gRPC; its body becomes grpc-message.
	transform bool
	msg       []byte
	pend      [2]byte // text: bytes waiting for a 3-byte group
	npend     int
}

func (x *writer) Header() http.Header { return x.h }

// WriteHeader records the status and decides whether the response is gRPC
// (or already gRPC-Web proto) or needs Envoy's transformation.
func (x *writer) WriteHeader(code int) {
	if x.status != 0 || code < 200 { // 1xx (100-continue) is not the final head
		return
	}
	x.status = code
	ct, _, _ := strings.Cut(x.h.Get("Content-Type"), ";")
	ct = strings.ToLower(strings.TrimSpace(ct))
	grpc := ct == "application/grpc" || strings.HasPrefix(ct, "application/grpc+")
	web := ct == ctWeb || ct == ctWebProto
	x.transform = x.h.Get("Grpc-Status") == "" && !(code == http.StatusOK && (grpc || web))
}

func (x *writer) Write(p []byte) (int, error) {
	if x.status == 0 {
		x.WriteHeader(http.StatusOK)
	}
	if x.transform {
		if room := maxMessageBody - len(x.msg); room > 0 {
			x.msg = append(x.msg, p[:min(room, len(p))]...)
		}
		return len(p), nil
	}
	x.head()
	if !x.text {
		return x.w.Write(p)
	}
	if err := x.encode(p, false); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush sends the head and, for text, pads what is pending so the client
// can decode everything sent so far (a server-streamed message).
func (x *writer) Flush() {
	if x.status == 0 || x.transform {
		return
	}
	x.head()
	if x.text && x.npend > 0 {
		x.encode(nil, true)
	}
	http.NewResponseController(x.w).Flush()
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (x *writer) Unwrap() http.ResponseWriter { return x.w }

// head writes the status and headers to w once.
func (x *writer) head() {
	if x.sent {
		return
	}
	x.sent = true
	dst := x.w.Header()
	for k, v := range x.h {
		if k == "Trailer" || k == "Content-Length" || strings.HasPrefix(k, http.TrailerPrefix) || announced(x.h, k) {
			continue
		}
		dst[k] = v
	}
	if x.text {
		dst.Set("Content-Type", ctWebTextProto)
	} else {
		dst.Set("Content-Type", ctWebProto)
	}
	x.w.WriteHeader(x.status)
}

// encode writes p base64-encoded in whole 3-byte groups, keeping up to two
// bytes back; with pad it also encodes those, padded.
func (x *writer) encode(p []byte, pad bool) error {
	var buf []byte
	if x.npend > 0 {
		need := min(3-x.npend, len(p))
		grp := append(x.pend[:x.npend:x.npend], p[:need]...)
		p = p[need:]
		if len(grp) == 3 || pad {
			buf = base64.StdEncoding.AppendEncode(buf, grp)
			x.npend = 0
		} else {
			x.npend = copy(x.pend[:], grp)
		}
	}
	whole := len(p) / 3 * 3
	buf = base64.StdEncoding.AppendEncode(buf, p[:whole])
	if rest := p[whole:]; len(rest) > 0 {
		if pad {
			buf = base64.StdEncoding.AppendEncode(buf, rest)
		} else {
			x.npend = copy(x.pend[:], rest)
		}
	}
	if len(buf) == 0 {
		return nil
	}
	_, err := x.w.Write(buf)
	return err
}

// finish ends the response after the router returns: the trailers go out
// as the trailer frame, or a non-gRPC answer becomes a trailers-only
// gRPC-Web reply. It returns the call's grpc-status ("" if none).
func (x *writer) finish() string {
	if x.status == 0 {
		x.WriteHeader(http.StatusOK)
	}
	if x.transform {
		for k := range x.h {
			if k == "Trailer" || strings.HasPrefix(k, http.TrailerPrefix) {
				delete(x.h, k)
			}
		}
		code := strconv.Itoa(httpfilter.GRPCStatusOf(x.status))
		x.h.Set("Grpc-Status", code)
		x.h.Set("Grpc-Message", percentEncode(x.msg))
		x.head()
		x.w.Header().Set("Content-Length", "0")
		return code
	}
	tr := trailers(x.h)
	if len(tr) == 0 { // trailers-only: the status stays in the headers
		x.head()
		return x.h.Get("Grpc-Status")
	}
	x.head()
	var block []byte
	keys := make([]string, 0, len(tr))
	for k := range tr {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range tr[k] {
			block = append(block, strings.ToLower(k)...)
			block = append(block, ':')
			block = append(block, v...)
			block = append(block, '\r', '\n')
		}
	}
	frame := make([]byte, 5, 5+len(block))
	frame[0] = 0x80
	binary.BigEndian.PutUint32(frame[1:], uint32(len(block)))
	frame = append(frame, block...)
	if x.text {
		x.encode(frame, true)
	} else {
		x.w.Write(frame)
	}
	return tr.Get("Grpc-Status")
}

// trailers returns what the router set as trailers: keys with
// http.TrailerPrefix and the names the Trailer header announced.
func trailers(h http.Header) http.Header {
	t := http.Header{}
	for k, v := range h {
		if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			t[http.CanonicalHeaderKey(name)] = v
		} else if announced(h, k) {
			t[k] = v
		}
	}
	return t
}

// announced reports whether k was named in the Trailer header.
func announced(h http.Header, k string) bool {
	for _, line := range h["Trailer"] {
		for _, name := range strings.Split(line, ",") {
			if http.CanonicalHeaderKey(strings.TrimSpace(name)) == k {
				return true
			}
		}
	}
	return false
}

// percentEncode is Envoy's PercentEncoding::encode for grpc-message:
// bytes outside printable ASCII, and '%', become %XX.
func percentEncode(b []byte) string {
	const hex = "0123456789ABCDEF"
	var s strings.Builder
	for _, c := range b {
		if c < 0x20 || c > 0x7e || c == '%' {
			s.Write([]byte{'%', hex[c>>4], hex[c&15]})
			continue
		}
		s.WriteByte(c)
	}
	return s.String()
}
