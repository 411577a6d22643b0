package extauthz_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

const httpService = `                http_service:
                  server_uri: {uri: "http://authz", cluster: authz, timeout: 5s}
                  path_prefix: /authz
                  authorization_request:
                    allowed_headers: {patterns: [{exact: x-tenant}]}
                    headers_to_add: [{key: x-from-sluice, value: "yes"}]
                  authorization_response:
                    allowed_upstream_headers: {patterns: [{exact: x-auth-user}]}
                    allowed_client_headers_on_success: {patterns: [{prefix: x-authz-}]}
                with_request_body: {max_request_bytes: 1024, allow_partial_message: true}`

// TestOPAHTTP: the same policy behind Envoy's HTTP ext_authz protocol:
// the service sees the path behind path_prefix (it answers 404 without
// it), only the allowed headers plus headers_to_add, and the body; its
// headers go upstream and to the client as the allow lists say; a denial
// is the service's status and body.
func TestOPAHTTP(t *testing.T) {
	opa := testenv.OPAAuthz(t, policy, "-http-prefix", "/authz")
	up, sn := upstream(t)
	s := sluicetest.Start(t, sluiceConfig(up.URL, opa.HTTPAddr(), httpService))
	base := "http://" + s.Addr("l")
	admin, user := hsToken(t, secret, "alice", "admin"), hsToken(t, secret, "bob", "user")
	big := strings.Repeat("y", 3000)
	run(t, base, sn, []call{
		{method: "GET", path: "/public/x", code: 200, user: "anonymous"},
		{method: "GET", path: "/admin/x", token: admin, code: 200, user: "alice"},
		{method: "GET", path: "/admin/x", token: user, code: 403},
		{method: "GET", path: "/admin/x", code: 401},
		{method: "GET", path: "/tenant/1", hdr: map[string]string{"x-tenant": "acme"}, code: 200, user: "anonymous"},
		// x-secret is not in allowed_headers: the service never sees it.
		{method: "GET", path: "/tenant/1", hdr: map[string]string{"x-tenant": "acme", "x-secret": "1"}, code: 200, user: "anonymous"},
		{method: "GET", path: "/tenant/1", hdr: map[string]string{"x-tenant": "evil"}, code: 403},
		{method: "POST", path: "/upload", body: "a virus inside", code: 403},
		// allow_partial_message: the service sees the first 1024 bytes and
		// the upstream gets the whole body.
		{method: "POST", path: "/upload", body: big, code: 200, user: "anonymous"},
	})
	r, _ := sn.last(t)
	if r.Header.Get("X-Envoy-Auth-Partial-Body") != "true" {
		t.Errorf("partial body not flagged: %v", r.Header)
	}
	if got := s.Counter("cluster.c.ext_authz.ok"); got != 5 {
		t.Errorf("ok = %d, want 5", got)
	}
	if got := s.Counter("cluster.c.ext_authz.denied"); got != 4 {
		t.Errorf("denied = %d, want 4", got)
	}
}

// hanging is an Authorization service that never answers.
type hanging struct {
	authv3.UnimplementedAuthorizationServer
}

func (hanging) Check(ctx context.Context, _ *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestServiceFails: a service that hangs is given up at the timeout and
// answered with status_on_error, or let through (marked) with
// failure_mode_allow; a service that cannot be reached is the default 403.
func TestServiceFails(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	authv3.RegisterAuthorizationServer(gs, hanging{})
	go func() { _ = gs.Serve(l) }()
	defer gs.Stop()
	up, sn := upstream(t)
	for _, tc := range []struct {
		name, addr, service string
		code                int
		marked              bool
		counter             string
	}{
		{"timeout", l.Addr().String(), `                grpc_service: {envoy_grpc: {cluster_name: authz}, timeout: 0.3s}
                status_on_error: {code: 503}`, 503, false, "cluster.c.ext_authz.error"},
		{"failure_mode_allow", l.Addr().String(), `                grpc_service: {envoy_grpc: {cluster_name: authz}, timeout: 0.3s}
                failure_mode_allow: true
                failure_mode_allow_header_add: true`, 200, true, "cluster.c.ext_authz.failure_mode_allowed"},
		{"unreachable", "127.0.0.1:1", `                grpc_service: {envoy_grpc: {cluster_name: authz}}`, 403, false, "cluster.c.ext_authz.error"},
		{"http timeout", l.Addr().String(), `                http_service: {server_uri: {uri: "http://a", cluster: authz, timeout: 0.3s}}`, 403, false, "cluster.c.ext_authz.error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sluicetest.Start(t, sluiceConfig(up.URL, tc.addr, tc.service))
			before := sn.count()
			resp, err := http.Get("http://" + s.Addr("l") + "/public/x")
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.code)
			}
			if tc.marked {
				r, _ := sn.last(t)
				if r.Header.Get("X-Envoy-Auth-Failure-Mode-Allowed") != "true" {
					t.Fatalf("upstream request not marked: %v", r.Header)
				}
			} else if sn.count() != before {
				t.Fatal("a failed check reached the upstream")
			}
			if got := s.Counter(tc.counter); got != 1 {
				t.Fatalf("%s = %d", tc.counter, got)
			}
		})
	}
}
