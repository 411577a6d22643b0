package httprbac

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sluice-proxy/sluice/filters/rbac"
	"github.com/sluice-proxy/sluice/router"
)

// FuzzRBACRequest judges arbitrary paths, methods and header values with
// header, url_path and not rules: it must never panic, and a request the
// ALLOW policy does not match is refused.
func FuzzRBACRequest(f *testing.F) {
	f.Add("GET", "/admin/users", "admin")
	f.Add("POST", "/%zz", "")
	f.Add("DELETE", "/public/../admin", "x\x00y")
	prefix := "/public"
	exact := "GET"
	h := rbac.CompileHTTP(&rbac.Rules{Policies: map[string]*rbac.Policy{"p": {
		Permissions: []*rbac.Permission{{AndRules: &rbac.PermissionSet{Rules: []*rbac.Permission{
			{URLPath: &rbac.PathMatcher{Path: &router.StringMatcher{Prefix: prefix}}},
			{Header: &rbac.HeaderMatcher{Name: ":method", ExactMatch: &exact}},
		}}}},
		Principals: []*rbac.Principal{{NotID: &rbac.Principal{Header: &rbac.HeaderMatcher{Name: "x-role", PresentMatch: new(bool)}}}},
	}}}, nil)
	f.Fuzz(func(t *testing.T, method, path, role string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Method, r.URL.Path = method, path
		if role != "" {
			r.Header.Set("x-role", role)
		}
		v := h.Check(r)
		want := method == "GET" && len(path) >= len(prefix) && path[:len(prefix)] == prefix && role != ""
		if v.Allowed != want {
			t.Fatalf("%q %q role %q: allowed %v, want %v", method, path, role, v.Allowed, want)
		}
	})
}
