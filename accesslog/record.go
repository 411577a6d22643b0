package accesslog

import (
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// Record is what one access log line is made of. Req and RespHeader may be
// nil (a connection, not a request).
type Record struct {
	Start          time.Time
	Duration       time.Duration
	Req            *http.Request
	RespHeader     http.Header
	RespTrailer    http.Header
	Status         int
	Flags          string
	BytesReceived  int64
	BytesSent      int64
	UpstreamHost   string
	UpstreamLocal  string
	Cluster        string
	RouteName      string
	Details        string
	DownstreamAddr string
	LocalAddr      string
	ServerName     string
	ConnectionID   uint64
	ReqDuration    time.Duration // until the request's last byte; <0 unknown
	RespDuration   time.Duration // until the response's first byte; <0 unknown
	// Metadata is the request's dynamic metadata by namespace and key
	// (%DYNAMIC_METADATA%); nil when none.
	Metadata map[string]map[string]any
}

var hostname, _ = os.Hostname()

// value returns the operator's value, or false for Envoy's "-".
func (r *Record) value(p *part) (string, bool) {
	v, ok := r.raw(p)
	if ok && p.maxLen > 0 && len(v) > p.maxLen {
		v = v[:p.maxLen]
	}
	return v, ok && v != ""
}

func (r *Record) raw(p *part) (string, bool) {
	switch p.op {
	case "START_TIME":
		return startTime(r.Start, p.arg), true
	case "RESPONSE_CODE":
		return strconv.Itoa(r.Status), true
	case "RESPONSE_FLAGS":
		return r.Flags, r.Flags != ""
	case "DURATION":
		return strconv.FormatInt(r.Duration.Milliseconds(), 10), true
	case "REQUEST_DURATION":
		return strconv.FormatInt(r.ReqDuration.Milliseconds(), 10), r.ReqDuration >= 0
	case "RESPONSE_DURATION":
		return strconv.FormatInt(r.RespDuration.Milliseconds(), 10), r.RespDuration >= 0
	case "BYTES_RECEIVED":
		return strconv.FormatInt(r.BytesReceived, 10), true
	case "BYTES_SENT":
		return strconv.FormatInt(r.BytesSent, 10), true
	case "PROTOCOL":
		if r.Req == nil {
			return "", false
		}
		if r.Req.ProtoMajor == 2 {
			return "HTTP/2", true // Envoy's spelling; Go says HTTP/2.0
		}
		return r.Req.Proto, true
	case "UPSTREAM_HOST":
		return r.UpstreamHost, true
	case "UPSTREAM_LOCAL_ADDRESS":
		return r.UpstreamLocal, true
	case "UPSTREAM_CLUSTER":
		return r.Cluster, true
	case "ROUTE_NAME":
		return r.RouteName, true
	case "RESPONSE_CODE_DETAILS":
		return r.Details, true
	case "DOWNSTREAM_REMOTE_ADDRESS":
		return r.DownstreamAddr, true
	case "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT":
		if i := strings.LastIndexByte(r.DownstreamAddr, ':'); i > 0 {
			return strings.Trim(r.DownstreamAddr[:i], "[]"), true
		}
		return r.DownstreamAddr, true
	case "DOWNSTREAM_LOCAL_ADDRESS":
		return r.LocalAddr, true
	case "REQUESTED_SERVER_NAME":
		return r.ServerName, true
	case "CONNECTION_ID":
		return strconv.FormatUint(r.ConnectionID, 10), true
	case "HOSTNAME":
		return hostname, true
	case "REQ":
		if r.Req == nil {
			return "", false
		}
		return r.reqHeader(p.arg, p.alt)
	case "RESP":
		return header(r.RespHeader, p.arg, p.alt)
	case "TRAILER":
		return header(r.RespTrailer, p.arg, p.alt)
	case "GRPC_STATUS":
		return r.grpcStatus(p.arg)
	case "DYNAMIC_METADATA":
		v, ok := r.metadata(p)
		if !ok {
			return "", false
		}
		if s, isStr := v.(string); isStr {
			return s, true
		}
		b, err := json.Marshal(v)
		return string(b), err == nil
	}
	return "", false
}

// metadata looks up NAMESPACE:KEY:... in the request's dynamic metadata;
// without a key it is the whole namespace.
func (r *Record) metadata(p *part) (any, bool) {
	kv, ok := r.Metadata[p.arg]
	if !ok {
		return nil, false
	}
	if p.alt == "" {
		return kv, true
	}
	var cur any = kv
	for _, k := range strings.Split(p.alt, ":") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// reqHeader reads a request header, HTTP/2 pseudo-headers included.
func (r *Record) reqHeader(name, alt string) (string, bool) {
	if v, ok := r.pseudo(name); ok {
		return v, v != ""
	}
	if v := r.Req.Header.Get(name); v != "" {
		return v, true
	}
	if alt == "" {
		return "", false
	}
	if v, ok := r.pseudo(alt); ok {
		return v, v != ""
	}
	v := r.Req.Header.Get(alt)
	return v, v != ""
}

func (r *Record) pseudo(name string) (string, bool) {
	switch strings.ToUpper(name) {
	case ":METHOD":
		return r.Req.Method, true
	case ":PATH":
		return r.Req.RequestURI, true
	case ":AUTHORITY":
		return r.Req.Host, true
	case ":SCHEME":
		if r.Req.TLS != nil {
			return "https", true
		}
		return "http", true
	}
	return "", false
}

func header(h http.Header, name, alt string) (string, bool) {
	if h == nil {
		return "", false
	}
	if v := h.Get(name); v != "" {
		return v, true
	}
	if alt != "" {
		v := h.Get(alt)
		return v, v != ""
	}
	return "", false
}
