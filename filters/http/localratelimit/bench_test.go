package localratelimit_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// BenchmarkThroughSluice compares requests through sluice without the
// filter and with a bucket that never runs dry, on one run.
func BenchmarkThroughSluice(b *testing.B) {
	u := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer u.Close()
	for _, bc := range []struct{ name, filters string }{
		{"router_only", `[{router: {}}]`},
		{"local_ratelimit", `[{local_ratelimit: {stat_prefix: b, token_bucket: {max_tokens: 4000000000, tokens_per_fill: 4000000000, fill_interval: 1s},
              filter_enabled: {default_value: {numerator: 100}}, filter_enforced: {default_value: {numerator: 100}}}}, {router: {}}]`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := sluicetest.Start(b, fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - http_connection_manager:
          stat_prefix: ingress
          route_config:
            virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: c}}]}]
          http_filters: %s
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
`, bc.filters, strings.TrimPrefix(u.URL, "http://")))
			url := "http://" + s.Addr("l") + "/"
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := http.Get(url)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}
