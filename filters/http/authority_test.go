package httpfilter

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestAuthority(t *testing.T) {
	tests := []struct{ host, scheme, want string }{
		{"example.com", "http", "example.com:80"},
		{"example.com", "https", "example.com:443"},
		{"example.com:8080", "http", "example.com:8080"},
		{"[::1]", "http", "[::1]:80"},
		{"[::1]:9", "http", "[::1]:9"},
	}
	for _, tt := range tests {
		r := &http.Request{Host: tt.host, URL: &url.URL{Scheme: tt.scheme}}
		if got := Authority(r); got != tt.want {
			t.Errorf("Authority(%q, %s) = %q, want %q", tt.host, tt.scheme, got, tt.want)
		}
	}
}

// FuzzAuthority: whatever Host a client sends, the forward proxy's
// authority always splits into a host and a port (the DNS cache's key).
func FuzzAuthority(f *testing.F) {
	for _, s := range []string{"localhost:8080", "example.com", "[::1]", "[::1]:443", "a:b:c", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		a := Authority(&http.Request{Host: host, URL: &url.URL{}})
		if _, _, err := net.SplitHostPort(host); err == nil {
			if a != host {
				t.Fatalf("%q with a port became %q", host, a)
			}
			return
		}
		if strings.ContainsAny(host, ":[]") {
			return // not a name a resolver takes; the lookup fails (503 DF)
		}
		name, port, err := net.SplitHostPort(a)
		if err != nil || name != host || port != "80" {
			t.Fatalf("%q: authority %q (%q, %q, %v)", host, a, name, port, err)
		}
	})
}
