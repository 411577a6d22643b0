package headertometadata_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	_ "github.com/sluice-proxy/sluice/filters/http/headertometadata"
	_ "github.com/sluice-proxy/sluice/filters/http/rbac"
	_ "github.com/sluice-proxy/sluice/filters/httpconn"
	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// TestMain fails the package's tests if a goroutine outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func sluiceConfig(up, logPath string) string {
	return fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - http_connection_manager:
          stat_prefix: ingress
          access_log:
            - path: %s
              format: "%%REQ(:PATH)%% tenant=%%DYNAMIC_METADATA(envoy.filters.http.header_to_metadata:tenant)%% v=%%DYNAMIC_METADATA(envoy.filters.http.header_to_metadata:version)%% n=%%DYNAMIC_METADATA(acme:n)%% pb=%%DYNAMIC_METADATA(acme:pb)%% s=%%DYNAMIC_METADATA(acme:session)%% up=%%DYNAMIC_METADATA(resp:server)%%\n"
          route_config:
            virtual_hosts:
              - name: all
                domains: ["*"]
                routes:
                  - match: {prefix: /plain}
                    route: {cluster: c}
                    typed_per_filter_config:
                      header_to_metadata:
                        request_rules:
                          - header: x-tenant
                            on_header_present: {key: tenant, value: per-route}
                  - match: {prefix: "/"}
                    route: {cluster: c}
          http_filters:
            - header_to_metadata:
                request_rules:
                  - header: x-tenant
                    on_header_present: {key: tenant}
                    on_header_missing: {key: tenant, value: none}
                    remove: true
                  - header: x-version
                    on_header_present:
                      key: version
                      regex_value_rewrite: {pattern: {regex: "^v(\\d+)\\..*$"}, substitution: "\\1"}
                  - header: x-count
                    on_header_present: {metadata_namespace: acme, key: n, type: NUMBER}
                  - header: x-pb
                    on_header_present: {metadata_namespace: acme, key: pb, type: PROTOBUF_VALUE, encode: BASE64}
                  - cookie: session
                    on_header_present: {metadata_namespace: acme, key: session}
                response_rules:
                  - header: x-served-by
                    on_header_present: {metadata_namespace: resp, key: server}
                    remove: true
            - rbac:
                rules:
                  action: DENY
                  policies:
                    no-blocked-tenant:
                      permissions: [{any: true}]
                      principals:
                        - metadata: {filter: envoy.filters.http.header_to_metadata, path: [{key: tenant}], value: {string_match: {exact: blocked}}}
            - router: {}
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
`, logPath, strings.TrimPrefix(up, "http://"))
}

// TestHeadersToMetadata: request headers and a cookie become metadata
// (constant, copied, regex-rewritten, NUMBER, base64 PROTOBUF_VALUE) that
// rbac judges and the access log prints; a removed header never reaches
// the upstream; a response header becomes metadata and is removed; a
// route's own rules replace the filter's.
func TestHeadersToMetadata(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Served-By", "backend-7")
		_, _ = io.WriteString(w, "tenant header at upstream: "+r.Header.Get("X-Tenant"))
	}))
	defer up.Close()
	logPath := filepath.Join(t.TempDir(), "access.log")
	s := sluicetest.Start(t, sluiceConfig(up.URL, logPath))
	base := "http://" + s.Addr("l")
	pb, _ := proto.Marshal(structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewStringValue("a"), structpb.NewNumberValue(2)}}))
	for i, c := range []struct {
		path string
		hdr  map[string]string
		code int
		body string
	}{
		{"/a", map[string]string{"X-Tenant": "acme", "X-Version": "v12.3", "X-Count": "42.5", "X-Pb": base64.StdEncoding.EncodeToString(pb), "Cookie": "session=s1"}, 200, "tenant header at upstream: "},
		{"/b", map[string]string{"X-Count": "not a number", "X-Pb": "%%%"}, 200, "tenant header at upstream: "},
		{"/c", map[string]string{"X-Tenant": "blocked"}, 403, "RBAC: access denied"},
		{"/plain", map[string]string{"X-Tenant": "blocked"}, 200, "tenant header at upstream: blocked"},
	} {
		req, _ := http.NewRequest("GET", base+c.path, nil)
		for k, v := range c.hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code || string(b) != c.body {
			t.Errorf("%d %s: %d %q, want %d %q", i, c.path, resp.StatusCode, b, c.code, c.body)
		}
		// The per-route rules of /plain replace the filter's: no response rule.
		if removed := resp.Header.Get("X-Served-By") == ""; removed != (c.path != "/plain") {
			t.Errorf("%d %s: x-served-by %q", i, c.path, resp.Header.Get("X-Served-By"))
		}
	}
	// curl, a real client, with a cookie.
	if out, err := exec.Command("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-b", "session=curl1", base+"/curl").Output(); err != nil || string(out) != "200" {
		t.Fatalf("curl: %s %v", out, err)
	}
	want := []string{
		"/a tenant=acme v=12 n=42.5 pb=[\"a\",2] s=s1 up=backend-7",
		"/b tenant=none v=- n=- pb=- s=- up=backend-7",
		"/c tenant=blocked v=- n=- pb=- s=- up=-",
		"/plain tenant=per-route v=- n=- pb=- s=- up=-",
		"/curl tenant=none v=- n=- pb=- s=curl1 up=backend-7",
	}
	var got string
	poll.Eventually(t, 5*time.Second, func() bool {
		b, _ := os.ReadFile(logPath)
		got = string(b)
		return strings.Count(got, "\n") >= len(want)
	}, "access log lines: %q", got)
	if got != strings.Join(want, "\n")+"\n" {
		t.Fatalf("access log:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}
