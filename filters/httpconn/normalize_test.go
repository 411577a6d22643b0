package httpconn

import (
	"strings"
	"testing"
)

func TestNormalizePathTable(t *testing.T) {
	for in, want := range map[string]string{
		"/a/../admin": "/admin", "/..": "/", "/a/.": "/a/", "/a/b/../": "/a/", "/%2e%2e/admin": "/admin",
		"/a/%2E/b": "/a/b", "/%7euser": "/~user", "/x%2fy": "/x%2Fy", "/plain": "/plain", "/../../etc": "/etc",
	} {
		if got := removeDotSegments(decodeUnreserved(in)); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// FuzzNormalizePath: whatever the path, the normalized one starts with
// "/", has no "." or ".." segment left, and normalizing again changes
// nothing. Seeded with traversal attempts.
func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"/a/../admin", "/%2e%2e/%2E./x", "/./", "//a//..//b", "/a%2fb/.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		n := removeDotSegments(decodeUnreserved(p))
		if !strings.HasPrefix(n, "/") {
			t.Fatalf("%q -> %q", p, n)
		}
		for _, seg := range strings.Split(n, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("%q -> %q keeps a dot segment", p, n)
			}
		}
		if again := removeDotSegments(decodeUnreserved(n)); again != n {
			t.Fatalf("%q -> %q -> %q", p, n, again)
		}
	})
}
