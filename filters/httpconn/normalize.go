package httpconn

import (
	"net/http"
	"net/url"
	"strings"
)

// normalizeRequestPath applies normalize_path and merge_slashes to r's
// path before the filters and the router see it, so that "/a/../admin"
// and "//admin" are judged (rbac, routes) as the upstream will resolve
// them: "/admin". Hand-written because net/url keeps paths as given and
// path.Clean also drops a trailing slash and treats encoded characters as
// opaque.
func normalizeRequestPath(r *http.Request, normalize, merge bool) {
	p := r.URL.EscapedPath()
	if normalize {
		p = removeDotSegments(decodeUnreserved(p))
	}
	if merge {
		for strings.Contains(p, "//") {
			p = strings.ReplaceAll(p, "//", "/")
		}
	}
	if p == r.URL.EscapedPath() {
		return
	}
	dec, err := url.PathUnescape(p)
	if err != nil {
		return // the router routes the path as received
	}
	r.URL.Path, r.URL.RawPath = dec, p
}

// decodeUnreserved decodes percent-encoded unreserved characters (RFC 3986
// 6.2.2.2: ALPHA, DIGIT, "-", ".", "_", "~") and upper-cases the hex of
// the other escapes.
func decodeUnreserved(p string) string {
	if !strings.Contains(p, "%") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]) {
			c := unhex(p[i+1])<<4 | unhex(p[i+2])
			if isUnreserved(c) {
				b.WriteByte(c)
			} else {
				b.WriteString(strings.ToUpper(p[i : i+3]))
			}
			i += 2
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// removeDotSegments is RFC 3986 5.2.4 on an absolute path.
func removeDotSegments(p string) string {
	if !strings.Contains(p, ".") {
		return p
	}
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	if len(out) == 0 || out[0] != "" {
		out = append([]string{""}, out...)
	}
	if len(out) == 1 {
		return "/"
	}
	return strings.Join(out, "/")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}
