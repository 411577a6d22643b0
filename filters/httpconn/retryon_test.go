package httpconn_test

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
)

func getWith(t *testing.T, url string, hdr map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestRetryRequestHeaders: without a retry_policy, x-envoy-retry-on and
// x-envoy-max-retries from an internal client make sluice retry (and are
// not forwarded); the limit is counted; an edge listener
// (use_remote_address) strips them, so an external client gets no retry.
func TestRetryRequestHeaders(t *testing.T) {
	var hits atomic.Int64
	var leaked atomic.Bool
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("X-Envoy-Retry-On") != "" || r.Header.Get("X-Envoy-Max-Retries") != "" {
			leaked.Store(true)
		}
		w.WriteHeader(http.StatusBadGateway)
	})
	routes := `[{match: {prefix: "/"}, route: {cluster: c}}]`
	hdr := map[string]string{"X-Envoy-Retry-On": "gateway-error", "X-Envoy-Max-Retries": "2"}
	s := featSluice(t, routes, "", "", plainCluster("c", "", be.addr()))
	if resp := getWith(t, "http://"+s.Addr("l")+"/", hdr); resp.StatusCode != 502 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if h := hits.Load(); h != 3 {
		t.Fatalf("backend got %d tries, want 3 (1 + x-envoy-max-retries 2)", h)
	}
	if leaked.Load() {
		t.Fatal("the x-envoy-retry-* headers reached the upstream")
	}
	s.WaitCounter("cluster.c.upstream_rq_retry", 2, 5*time.Second)
	s.WaitCounter("cluster.c.upstream_rq_retry_limit_exceeded", 1, 5*time.Second)
	if n := s.Counter("cluster.c.upstream_rq_retry_success"); n != 0 {
		t.Fatalf("retry_success %d after failing retries", n)
	}

	hits.Store(0)
	edge := featSluice(t, routes, "", "use_remote_address: true", plainCluster("c", "", be.addr()))
	getWith(t, "http://"+edge.Addr("l")+"/", hdr)
	if h := hits.Load(); h != 1 {
		t.Fatalf("edge: backend got %d tries, want 1 (headers from an external client ignored)", h)
	}
}

// TestRetryAttemptCount: include_request_attempt_count numbers each try
// upstream; include_attempt_count_in_response tells the client.
func TestRetryAttemptCount(t *testing.T) {
	be := startFailFirst(t, http.StatusServiceUnavailable)
	s := featSluice(t, `[{match: {prefix: "/"}, route: {cluster: c, retry_policy: {retry_on: "5xx", retry_back_off: {base_interval: 0.001s}}}}]`,
		"include_request_attempt_count: true\ninclude_attempt_count_in_response: true", "", plainCluster("c", "", be.addr()))
	resp := getWith(t, "http://"+s.Addr("l")+"/", nil)
	if resp.StatusCode != 200 || resp.Header.Get("X-Seen-Attempt") != "2" || resp.Header.Get("X-Envoy-Attempt-Count") != "2" {
		t.Fatalf("status %d, upstream saw attempt %q, client told %q; want 200, 2, 2",
			resp.StatusCode, resp.Header.Get("X-Seen-Attempt"), resp.Header.Get("X-Envoy-Attempt-Count"))
	}
}

// TestRetryBreakers: max_retries 0 refuses every retry
// (upstream_rq_retry_overflow); a retry budget of 0% with
// min_retry_concurrency 0 too; the budget's default minimum (3) allows it.
func TestRetryBreakers(t *testing.T) {
	for _, tc := range []struct {
		name, thresholds string
		retried          bool
	}{
		{"max_retries 0", "{max_retries: 0}", false},
		{"budget 0", "{retry_budget: {budget_percent: 0, min_retry_concurrency: 0}}", false},
		{"budget defaults", "{max_retries: 0, retry_budget: {}}", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := startFailFirst(t, http.StatusServiceUnavailable)
			s := featSluice(t, `[{match: {prefix: "/"}, route: {cluster: c, retry_policy: {retry_on: "5xx", retry_back_off: {base_interval: 0.001s}}}}]`,
				"", "", plainCluster("c", "circuit_breakers: {thresholds: ["+tc.thresholds+"]}", be.addr()))
			resp := getWith(t, "http://"+s.Addr("l")+"/", nil)
			if got := resp.StatusCode == 200; got != tc.retried {
				t.Fatalf("status %d, retried %v, want %v", resp.StatusCode, got, tc.retried)
			}
			if !tc.retried {
				s.WaitCounter("cluster.c.upstream_rq_retry_overflow", 1, 5*time.Second)
			} else if n := s.Counter("cluster.c.upstream_rq_retry_overflow"); n != 0 {
				t.Fatalf("upstream_rq_retry_overflow %d", n)
			}
		})
	}
}

// TestRetryConnectFailure: connect-failure retries a try whose connect was
// refused (a closed port among the cluster's hosts) on another host.
func TestRetryConnectFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	be := startBackend(t, echoHandler)
	s := featSluice(t, `[{match: {prefix: "/"}, route: {cluster: c, retry_policy: {retry_on: "connect-failure", num_retries: 3, retry_back_off: {base_interval: 0.001s}}}}]`,
		"", "", plainCluster("c", "", dead, be.addr()))
	for i := 0; i < 6; i++ {
		if resp := getWith(t, "http://"+s.Addr("l")+"/", nil); resp.StatusCode != 200 {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
	}
	if s.Counter("cluster.c.upstream_rq_retry") == 0 {
		t.Fatal("no retry counted, though the dead host must have been picked")
	}
}

// flakyGRPC fails each odd UnaryCall with code, the others succeed.
type flakyGRPC struct {
	testpb.UnimplementedTestServiceServer
	code  codes.Code
	calls atomic.Int64
}

func (f *flakyGRPC) UnaryCall(ctx context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	if f.calls.Add(1)%2 == 1 {
		return nil, status.Error(f.code, "try again")
	}
	return &testpb.SimpleResponse{Username: string(in.Payload.GetBody())}, nil
}

// TestRetryGRPCStatus: retry_on "unavailable" retries a grpc-go call
// failed UNAVAILABLE (a trailers-only response) with its message replayed;
// a code not listed (INTERNAL) is returned as is.
func TestRetryGRPCStatus(t *testing.T) {
	for _, tc := range []struct {
		code    codes.Code
		retried bool
	}{{codes.Unavailable, true}, {codes.Internal, false}} {
		svc := &flakyGRPC{code: tc.code}
		s := featSluice(t, `[{match: {prefix: "/"}, route: {cluster: c, retry_policy: {retry_on: "unavailable,cancelled", retry_back_off: {base_interval: 0.001s}}}}]`,
			"", "", plainCluster("c", h2Cluster, startGRPC(t, svc)))
		c := dialGRPC(t, s.Addr("l"))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		resp, err := c.UnaryCall(ctx, &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("hello")}})
		cancel()
		if tc.retried {
			if err != nil || resp.Username != "hello" {
				t.Fatalf("%v: %v %v", tc.code, resp, err)
			}
			s.WaitCounter("cluster.c.upstream_rq_retry", 1, 5*time.Second)
		} else {
			wantCode(t, err, tc.code, "try again")
			if n := svc.calls.Load(); n != 1 {
				t.Fatalf("%v: %d calls, want 1", tc.code, n)
			}
		}
	}
}

// TestTimeoutRequestHeaders: x-envoy-upstream-rq-timeout-ms replaces the
// route timeout and x-envoy-upstream-rq-per-try-timeout-ms the per-try
// timeout, for internal callers; neither reaches the upstream.
func TestTimeoutRequestHeaders(t *testing.T) {
	var slowOnce atomic.Int64
	var leaked atomic.Bool
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Envoy-Upstream-Rq-Timeout-Ms") != "" || r.Header.Get("X-Envoy-Upstream-Rq-Per-Try-Timeout-Ms") != "" {
			leaked.Store(true)
		}
		switch {
		case r.URL.Path == "/stall":
			<-r.Context().Done()
		case r.URL.Path == "/once" && slowOnce.Add(1) == 1:
			<-r.Context().Done()
		}
	})
	s := featSluice(t, `[{match: {prefix: "/once"}, route: {cluster: c, retry_policy: {retry_on: reset, retry_back_off: {base_interval: 0.001s}}}},
 {match: {prefix: "/"}, route: {cluster: c}}]`, "", "", plainCluster("c", "", be.addr()))
	resp := getWith(t, "http://"+s.Addr("l")+"/stall", map[string]string{"X-Envoy-Upstream-Rq-Timeout-Ms": "200"})
	if resp.StatusCode != 504 {
		t.Fatalf("route timeout from the header: %d, want 504", resp.StatusCode)
	}
	resp = getWith(t, "http://"+s.Addr("l")+"/once", map[string]string{"X-Envoy-Upstream-Rq-Per-Try-Timeout-Ms": "200"})
	if resp.StatusCode != 200 {
		t.Fatalf("per-try timeout from the header: %d, want the retry's 200", resp.StatusCode)
	}
	s.WaitCounter("cluster.c.upstream_rq_retry", 1, 5*time.Second)
	if leaked.Load() {
		t.Fatal("a timeout header reached the upstream")
	}
}

// TestPerTryIdleTimeout: per_try_idle_timeout ends a silent try (counted
// upstream_rq_per_try_idle_timeout) and the retry answers; without
// retries the client gets 504.
func TestPerTryIdleTimeout(t *testing.T) {
	var first atomic.Int64
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stall" || first.Add(1) == 1 {
			<-r.Context().Done()
		}
	})
	s := featSluice(t, `[{match: {prefix: "/stall"}, route: {cluster: c, retry_policy: {retry_on: reset, num_retries: 0, per_try_idle_timeout: 0.2s}}},
 {match: {prefix: "/"}, route: {cluster: c, retry_policy: {retry_on: reset, per_try_idle_timeout: 0.2s, retry_back_off: {base_interval: 0.001s}}}}]`,
		"", "", plainCluster("c", "", be.addr()))
	if resp := getWith(t, "http://"+s.Addr("l")+"/x", nil); resp.StatusCode != 200 {
		t.Fatalf("status %d, want the retry's 200", resp.StatusCode)
	}
	if resp := getWith(t, "http://"+s.Addr("l")+"/stall", nil); resp.StatusCode != 504 {
		t.Fatalf("status %d, want 504", resp.StatusCode)
	}
	s.WaitCounter("cluster.c.upstream_rq_per_try_idle_timeout", 2, 5*time.Second)
	s.WaitCounter("cluster.c.upstream_rq_retry", 1, 5*time.Second)
}

// TestRetryPreviousHosts: with the previous_hosts retry host predicate a
// retry never goes back to the host that failed, even under random
// balancing; each of 20 requests whose first try hit the failing host
// succeeds on the other (without the predicate some fail).
func TestRetryPreviousHosts(t *testing.T) {
	bad := startBackend(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	good := startBackend(t, func(w http.ResponseWriter, r *http.Request) {})
	s := featSluice(t, `[{match: {prefix: "/"}, route: {cluster: c, retry_policy: {retry_on: 5xx, num_retries: 1,
   retry_back_off: {base_interval: 0.001s}, host_selection_retry_max_attempts: 50,
   retry_host_predicate: [{name: envoy.retry_host_predicates.previous_hosts}]}}}]`, "", "",
		plainCluster("c", "lb_policy: random", bad.addr(), good.addr()))
	for i := 0; i < 20; i++ {
		if resp := getWith(t, "http://"+s.Addr("l")+"/", nil); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d (the retry went back to the failing host)", i, resp.StatusCode)
		}
	}
	if bad.hits.Load() == 0 {
		t.Fatal("the failing host was never picked first: the test proved nothing")
	}
}
