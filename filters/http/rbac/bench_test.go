package httprbac

import (
	"net/http/httptest"
	"testing"

	"github.com/sluice-proxy/sluice/filters/rbac"
	"github.com/sluice-proxy/sluice/router"
)

// BenchmarkCheck: one request judged by a path-and-header policy.
func BenchmarkCheck(b *testing.B) {
	h := rbac.CompileHTTP(&rbac.Rules{Policies: map[string]*rbac.Policy{"p": {
		Permissions: []*rbac.Permission{{URLPath: &rbac.PathMatcher{Path: &router.StringMatcher{Prefix: "/"}}}},
		Principals:  []*rbac.Principal{{Header: &rbac.HeaderMatcher{Name: "authorization", PrefixMatch: "Bearer"}}},
	}}}, nil)
	r := httptest.NewRequest("GET", "/x", nil)
	r.Header.Set("Authorization", "Bearer t")
	b.ReportAllocs()
	for b.Loop() {
		if !h.Check(r).Allowed {
			b.Fatal("denied")
		}
	}
}
