package http1

import "net/textproto"

// commonKeys interns the canonical form of frequent header names, keyed by
// their canonical and lower-case spellings: a lookup with string(bytes)
// does not allocate, so most fields of a head cost no key allocation
// (textproto.CanonicalMIMEHeaderKey allocated a string per field and was
// a visible share of the proxy's CPU profile).
var commonKeys = map[string]string{}

func init() {
	for _, k := range []string{
		"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Accept-Ranges",
		"Access-Control-Allow-Origin", "Age", "Allow", "Authorization", "Cache-Control",
		"Connection", "Content-Disposition", "Content-Encoding", "Content-Language",
		"Content-Length", "Content-Location", "Content-Range", "Content-Type", "Cookie",
		"Date", "Etag", "Expect", "Expires", "Forwarded", "From", "Grpc-Status", "Grpc-Message",
		"Host", "If-Match", "If-Modified-Since", "If-None-Match", "If-Range",
		"If-Unmodified-Since", "Keep-Alive", "Last-Modified", "Link", "Location", "Origin",
		"Pragma", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection", "Range",
		"Referer", "Retry-After", "Server", "Set-Cookie", "Strict-Transport-Security", "Te",
		"Trailer", "Transfer-Encoding", "Upgrade", "User-Agent", "Vary", "Via",
		"Www-Authenticate", "X-Content-Type-Options", "X-Forwarded-For", "X-Forwarded-Host",
		"X-Forwarded-Proto", "X-Frame-Options", "X-Request-Id", "X-Real-Ip",
		"X-Envoy-Expected-Rq-Timeout-Ms", "X-Envoy-External-Address",
		"X-Envoy-Upstream-Service-Time",
	} {
		commonKeys[k] = k
		commonKeys[lower(k)] = k
	}
	commonKeys["ETag"] = "Etag"
	commonKeys["WWW-Authenticate"] = "Www-Authenticate"
	commonKeys["TE"] = "Te"
	commonKeys["X-Real-IP"] = "X-Real-Ip"
	commonKeys["X-Request-ID"] = "X-Request-Id"
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// canonicalKey is textproto's canonical form of a field name (already
// checked to be a token), interned for common names.
func canonicalKey(name []byte) string {
	if k, ok := commonKeys[string(name)]; ok {
		return k
	}
	return textproto.CanonicalMIMEHeaderKey(string(name))
}
