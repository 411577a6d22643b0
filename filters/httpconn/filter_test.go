package httpconn_test

import (
	"net/http"
	"testing"

	httpfilter "github.com/sluice-proxy/sluice/filters/http"
)

// headerFilter is a test HTTP filter proving the contract: it decodes
// (adds a request header), encodes (adds a response header) and answers a
// request itself when asked to.
type headerFilter struct{ value string }

type headerConfig struct {
	Value string `yaml:"value"`
}

func (f headerFilter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/deny" {
			http.Error(w, "denied by filter", http.StatusForbidden)
			return
		}
		v := f.value
		// Per-route config: the route's typed_per_filter_config entry.
		if st := httpfilter.FromContext(r.Context()); st != nil && st.Route != nil {
			if m, ok := st.Route.PerFilterConfig("test_header").(map[string]any); ok {
				v, _ = m["value"].(string)
			}
		}
		r.Header.Set("X-Filter", v)
		w.Header().Set("X-Filter-Response", f.value)
		next.ServeHTTP(w, r)
	})
}

func init() {
	httpfilter.Register(httpfilter.Factory{
		Name:      "test_header",
		NewConfig: func() any { return &headerConfig{} },
		Build: func(cfg any, _ *httpfilter.Env) (httpfilter.Filter, error) {
			return headerFilter{cfg.(*headerConfig).Value}, nil
		},
	})
}

func TestHTTPFilterChain(t *testing.T) {
	var seen string
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) { seen = r.Header.Get("X-Filter") })
	s := startHCM(t, be.addr(), "http_filters: [{test_header: {value: hi}}, {router: {}}]", "")
	resp, _ := get(t, "http://"+s.Addr("l")+"/ok")
	if resp.StatusCode != 200 || seen != "hi" || resp.Header.Get("X-Filter-Response") != "hi" {
		t.Fatalf("got %d, upstream saw %q, response header %q", resp.StatusCode, seen, resp.Header.Get("X-Filter-Response"))
	}
	if resp, body := get(t, "http://"+s.Addr("l")+"/deny"); resp.StatusCode != 403 || body != "denied by filter\n" {
		t.Fatalf("filter answer: %d %q", resp.StatusCode, body)
	}
	if be.hits.Load() != 1 {
		t.Fatalf("upstream hits %d", be.hits.Load())
	}
}

// TestHTTPFilterPerRouteConfig: a filter reads its route's
// typed_per_filter_config through the request's Stream.
func TestHTTPFilterPerRouteConfig(t *testing.T) {
	var seen string
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) { seen = r.Header.Get("X-Filter") })
	s := startHCM(t, be.addr(), "http_filters: [{test_header: {value: default}}, {router: {}}]",
		`[{match: {prefix: "/special"}, route: {cluster: c}, typed_per_filter_config: {test_header: {value: special}}},
  {match: {prefix: "/"}, route: {cluster: c}}]`)
	for path, want := range map[string]string{"/special": "special", "/plain": "default"} {
		if resp, _ := get(t, "http://"+s.Addr("l")+path); resp.StatusCode != 200 || seen != want {
			t.Fatalf("%s: %d, filter value %q, want %q", path, resp.StatusCode, seen, want)
		}
	}
}

func TestHTTPFilterConfigErrors(t *testing.T) {
	for _, tc := range []struct{ extra, want string }{
		{"http_filters: [{nope: {}}, {router: {}}]", `unknown HTTP filter "nope"`},
		{"http_filters: [{router: {}}, {test_header: {value: x}}]", "router must be the last HTTP filter"},
		{"codec_type: HTTP3", "must be AUTO, HTTP1 or HTTP2"},
	} {
		_, err := loadConfig(hcmConfig("127.0.0.1:1", tc.extra, ""))
		if err == nil || !contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.extra, err, tc.want)
		}
	}
}
