package thrift_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/thrifttest"
)

var framedBinary = thrifttest.Stack{Transport: "framed", Protocol: "binary"}
var headerBinary = thrifttest.Stack{Transport: "header", Protocol: "binary"}

// TestMultiplexedServices routes the services of multiplexed clients to
// two clusters, one with strip_service_name (a plain server behind it).
func TestMultiplexedServices(t *testing.T) {
	calcSrv := thrifttest.StartServer(t, "calc", framedBinary)
	adminSrv := thrifttest.StartServer(t, "admin", framedBinary)
	s := sluicetest.Start(t, proxyYAML(`stat_prefix: mux
route_config:
  routes:
    - match: {service_name: Admin}
      route: {cluster: admin}
    - match: {method_name: "Calc:whoami", invert: true}
      route: {cluster: calc, strip_service_name: true}`,
		clusterYAML("calc", "", calcSrv.Addr)+"\n"+clusterYAML("admin", "", adminSrv.Addr)))
	ctx := context.Background()
	admin := thrifttest.DialAdmin(t, s.Addr("thrift"), framedBinary)
	if v, err := admin.Whoami(ctx); err != nil || v != "admin@admin" {
		t.Fatalf("Admin:whoami = %q, %v", v, err)
	}
	if v, err := admin.Add(ctx, 1, 2); err != nil || v != 1003 {
		t.Fatalf("Admin:add = %v, %v", v, err)
	}
	c := thrifttest.Dial(t, s.Addr("thrift"), framedBinary, "Calc")
	if v, err := c.Add(ctx, 1, 2); err != nil || v != 3 {
		t.Fatalf("Calc:add = %v, %v", v, err)
	}
	// Calc:whoami matches no route: a TApplicationException UNKNOWN_METHOD,
	// and the connection stays usable.
	var ae thrift.TApplicationException
	if _, err := c.Whoami(ctx); !errors.As(err, &ae) || ae.TypeId() != thrift.UNKNOWN_METHOD || !strings.Contains(ae.Error(), "Calc:whoami") {
		t.Fatalf("Calc:whoami: %v, want UNKNOWN_METHOD", err)
	}
	if v, err := c.Echo(ctx, "still here"); err != nil || v != "still here" {
		t.Fatalf("echo after no route: %q, %v", v, err)
	}
	if calcSrv.Count("add") != 1 || calcSrv.Count("echo") != 1 || adminSrv.Count("admin.whoami") != 1 || adminSrv.Count("admin.add") != 1 {
		t.Fatalf("calls landed wrong: calc add %d echo %d, admin whoami %d add %d", calcSrv.Count("add"), calcSrv.Count("echo"), adminSrv.Count("admin.whoami"), adminSrv.Count("admin.add"))
	}
	wantCounters(t, s, map[string]uint64{
		"thrift.mux.request_call": 5, "thrift.mux.route_missing": 1, "thrift.mux.response_exception": 1,
		"thrift.mux.response_success": 4, "cluster.admin.thrift.upstream_rq_call": 2,
		"cluster.calc.thrift.upstream_rq_call": 2, "cluster.calc.thrift.upstream_resp_success": 2,
	})
}

// TestHeaderRouting routes header-transport calls by their headers and by
// cluster_header.
func TestHeaderRouting(t *testing.T) {
	blue := thrifttest.StartServer(t, "blue", headerBinary)
	green := thrifttest.StartServer(t, "green", headerBinary)
	s := sluicetest.Start(t, proxyYAML(`stat_prefix: hdr
route_config:
  routes:
    - match:
        method_name: whoami
        headers: [{name: route, present_match: true}]
      route: {cluster_header: route}
    - match:
        method_name: whoami
        headers: [{name: tenant, string_match: {prefix: blu}}]
      route: {cluster: blue}
    - match:
        method_name: whoami
        headers: [{name: tenant, exact_match: blue, invert_match: true}]
      route: {cluster: green}`,
		clusterYAML("blue", "", blue.Addr)+"\n"+clusterYAML("green", "", green.Addr)))
	c := thrifttest.Dial(t, s.Addr("thrift"), headerBinary, "")
	call := func(headers map[string]string) (string, error) {
		ctx := context.Background()
		var keys []string
		for k, v := range headers {
			ctx = thrift.SetHeader(ctx, k, v)
			keys = append(keys, k)
		}
		ctx = thrift.SetWriteHeaderList(ctx, keys)
		return c.Whoami(ctx)
	}
	for _, tc := range []struct {
		headers map[string]string
		want    string
	}{
		{map[string]string{"tenant": "blue"}, "blue/blue"},
		{map[string]string{"tenant": "red"}, "green/red"},
		{map[string]string{"tenant": "x", "route": "blue"}, "blue/x"},
		{map[string]string{"route": "green"}, "green"},
	} {
		if got, err := call(tc.headers); err != nil || got != tc.want {
			t.Fatalf("headers %v: %q, %v; want %q", tc.headers, got, err, tc.want)
		}
	}
	var ae thrift.TApplicationException
	if _, err := call(map[string]string{"route": "nosuch"}); !errors.As(err, &ae) || ae.TypeId() != thrift.INTERNAL_ERROR {
		t.Fatalf("unknown cluster header: %v", err)
	}
	wantCounters(t, s, map[string]uint64{"thrift.hdr.unknown_cluster": 1, "thrift.hdr.route_missing": 0, "thrift.hdr.response_success": 4})
}

// TestWeightedAndMirror splits calls 3:1 over two clusters and mirrors
// every call to a third.
func TestWeightedAndMirror(t *testing.T) {
	a := thrifttest.StartServer(t, "a", framedBinary)
	b := thrifttest.StartServer(t, "b", framedBinary)
	m := thrifttest.StartServer(t, "m", framedBinary)
	s := sluicetest.Start(t, proxyYAML(`stat_prefix: w
route_config:
  routes:
    - match: {method_name: ""}
      route:
        weighted_clusters: {clusters: [{name: a, weight: 3}, {name: b, weight: 1}]}
        request_mirror_policies: [{cluster: m}]`,
		clusterYAML("a", "", a.Addr)+"\n"+clusterYAML("b", "", b.Addr)+"\n"+clusterYAML("m", "", m.Addr)))
	c := thrifttest.Dial(t, s.Addr("thrift"), framedBinary, "")
	const n = 400
	count := map[string]int{}
	for i := 0; i < n; i++ {
		v, err := c.Whoami(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		count[v]++
	}
	// 3:1 over 400 calls: a gets 300 on average; 240..360 is beyond 6 sigma.
	if count["a"] < 240 || count["a"] > 360 || count["a"]+count["b"] != n {
		t.Fatalf("split %v, want about 300/100", count)
	}
	wantCounters(t, s, map[string]uint64{
		"cluster.a.thrift.upstream_rq_call": uint64(count["a"]), "cluster.b.thrift.upstream_rq_call": uint64(count["b"]),
		"cluster.m.thrift.upstream_rq_call": 0, "thrift.w.shadow_request_submit_failure": 0,
	})
	if !pollCount(m, "whoami", n) {
		t.Fatalf("mirror got %d calls, want %d", m.Count("whoami"), n)
	}
}

func pollCount(s *thrifttest.Server, method string, n int) bool {
	return poll.Until(5*time.Second, func() bool { return s.Count(method) == n })
}
