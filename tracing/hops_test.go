package tracing_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestTwoHops: client -> sluice A (100%, OTLP/gRPC, upstream spans, a
// decorated route) -> sluice B (0% random, OTLP/HTTP) -> a Go app that
// continues the trace. One trace holds A's ingress and egress spans, B's
// ingress span and the app's span, each the parent of the next, with
// Envoy's names and tags; B samples because its parent did.
func TestTwoHops(t *testing.T) {
	col := testenv.StartOtelCol(t)
	a := startApp(t, col)
	b := sluicetest.Start(t, hcm(a.URL, col.HTTPAddr(), `{random_sampling: 0, provider: {opentelemetry: {service_name: inner,
      http_service: {http_uri: {uri: "http://`+col.HTTPAddr()+`/v1/traces", cluster: otel, timeout: 2s}}, flush_interval: 100ms}}}`))
	edge := sluicetest.Start(t, hcm("http://"+b.Addr("l"), col.GRPCAddr(), `{random_sampling: 100, spawn_upstream_span: true, verbose: true,
      custom_tags: [{tag: team, literal: {value: core}}, {tag: ua, request_header: {name: user-agent, default_value: none}}],
      provider: {opentelemetry: {service_name: edge, grpc_service: {envoy_grpc: {cluster_name: otel}, timeout: 2s}, flush_interval: 100ms}}}`))

	get(t, "http://"+edge.Addr("l")+"/decorated/x?q=1", "X-Test-Id", "hops", "User-Agent", "hop-test")
	h := a.headers("hops")
	tid := traceIDOf(h.Get("Traceparent"))
	if tid == "" {
		t.Fatalf("the app got no traceparent: %v", h)
	}
	rid := h.Get("X-Request-Id")
	if len(rid) != 36 || rid[14] != '9' {
		t.Fatalf("x-request-id %q does not carry the sampled reason ('9' at 14)", rid)
	}
	spans := spansOf(t, col, tid, 4)
	// A's decorated route rewrites /decorated to /rw, which B routes by
	// its undecorated catch-all: B's span is "ingress".
	in, eg := byService(spans, "edge", "edge-op"), byService(spans, "edge", "router up egress")
	bin, app := byService(spans, "inner", "ingress"), byService(spans, "app", "app-handler")
	for name, s := range map[string]testenv.Span{"edge": in, "edge egress": eg, "inner": bin, "app": app} {
		if s.SpanID == "" {
			t.Fatalf("no span %q in %+v", name, spans)
		}
	}
	if in.ParentSpanID != "" || eg.ParentSpanID != in.SpanID || bin.ParentSpanID != eg.SpanID || app.ParentSpanID != bin.SpanID {
		t.Fatalf("parent links: edge %s<-%s, egress %s<-%s, inner %s<-%s, app %s<-%s",
			in.SpanID, in.ParentSpanID, eg.SpanID, eg.ParentSpanID, bin.SpanID, bin.ParentSpanID, app.SpanID, app.ParentSpanID)
	}
	if in.Service != "edge" || bin.Service != "inner" || app.Service != "app" || in.Kind != 2 || eg.Kind != 3 {
		t.Fatalf("services/kinds: %s/%d %s/%d %s %s", in.Service, in.Kind, eg.Service, eg.Kind, bin.Service, app.Service)
	}
	want := map[string]string{
		"component": "proxy", "http.method": "GET", "http.status_code": "200", "upstream_cluster": "up",
		"response_flags": "-", "guid:x-request-id": rid, "http.protocol": "HTTP/1.1", "team": "core", "ua": "hop-test",
		"http.url": "http://" + edge.Addr("l") + "/decorated/x?q=1",
	}
	for k, v := range want {
		if in.Attrs[k] != v {
			t.Errorf("edge span tag %s = %q, want %q (all: %v)", k, in.Attrs[k], v, in.Attrs)
		}
	}
	if got := bin.Attrs["http.url"]; got != "http://"+edge.Addr("l")+"/rw/x?q=1" { // the Host header is kept
		t.Errorf("inner span http.url = %q", got)
	}
	if _, bad := in.Attrs["error"]; bad {
		t.Errorf("a 200 is tagged error: %v", in.Attrs)
	}
	if strings.Join(in.Events, ",") != "upstream request,upstream response" || len(bin.Events) != 0 {
		t.Errorf("verbose events: edge %v, inner (not verbose) %v", in.Events, bin.Events)
	}
	if eg.Attrs["http.status_code"] != "200" || eg.Attrs["upstream_cluster"] != "up" {
		t.Errorf("egress span tags: %v", eg.Attrs)
	}
}

// TestSampling at 0% random: nothing is exported unless forced by
// x-envoy-force-trace or x-client-trace-id (client_sampling 100%), and the
// decision travels in x-request-id; at 100% every request is.
func TestSampling(t *testing.T) {
	col := testenv.StartOtelCol(t)
	a := startApp(t, col)
	tr := func(pct int) string {
		return `{random_sampling: ` + itoa(pct) + `, provider: {opentelemetry: {service_name: s` + itoa(pct) +
			`, grpc_service: {envoy_grpc: {cluster_name: otel}}, flush_interval: 100ms}}}`
	}
	zero := sluicetest.Start(t, hcm(a.URL, col.GRPCAddr(), tr(0)))
	all := sluicetest.Start(t, hcm(a.URL, col.GRPCAddr(), tr(100)))

	var unsampled []string
	for i := 0; i < 5; i++ {
		id := "zero-" + itoa(i)
		get(t, "http://"+zero.Addr("l")+"/", "X-Test-Id", id)
		h := a.headers(id)
		if !strings.HasSuffix(h.Get("Traceparent"), "-00") || h.Get("X-Request-Id")[14] != '4' {
			t.Fatalf("unsampled request went upstream with traceparent %q, x-request-id %q", h.Get("Traceparent"), h.Get("X-Request-Id"))
		}
		unsampled = append(unsampled, traceIDOf(h.Get("Traceparent")))
	}
	get(t, "http://"+zero.Addr("l")+"/", "X-Test-Id", "forced", "X-Envoy-Force-Trace", "1")
	get(t, "http://"+zero.Addr("l")+"/", "X-Test-Id", "client", "X-Client-Trace-Id", "c-1")
	for id, reason := range map[string]byte{"forced": 'a', "client": 'b'} {
		h := a.headers(id)
		if !strings.HasSuffix(h.Get("Traceparent"), "-01") || h.Get("X-Request-Id")[14] != reason {
			t.Fatalf("%s: traceparent %q, x-request-id %q", id, h.Get("Traceparent"), h.Get("X-Request-Id"))
		}
		s := byName(spansOf(t, col, traceIDOf(h.Get("Traceparent")), 2), "ingress")
		if s.Service != "s0" {
			t.Fatalf("%s: no ingress span from the 0%% hop: %+v", id, s)
		}
		if id == "client" && s.Attrs["guid:x-client-trace-id"] != "c-1" {
			t.Errorf("client span tags: %v", s.Attrs)
		}
	}
	var sampled []string
	for i := 0; i < 5; i++ {
		id := "all-" + itoa(i)
		get(t, "http://"+all.Addr("l")+"/", "X-Test-Id", id)
		sampled = append(sampled, traceIDOf(a.headers(id).Get("Traceparent")))
	}
	for _, tid := range sampled {
		spansOf(t, col, tid, 2)
	}
	// The forced spans came after the unsampled requests through the same
	// exporter and are in: the unsampled ones would be too.
	spans, _ := col.Spans()
	for _, s := range spans {
		for _, tid := range unsampled {
			if s.TraceID == tid {
				t.Fatalf("unsampled trace %s exported: %+v", tid, s)
			}
		}
	}
}

// TestPropagation: each format a client sends (W3C, B3 single, B3 multi,
// X-Ray) becomes the parent of sluice's span, and sluice writes every
// configured format upstream with its own span id.
func TestPropagation(t *testing.T) {
	col := testenv.StartOtelCol(t)
	a := startApp(t, col)
	s := sluicetest.Start(t, hcm(a.URL, col.GRPCAddr(), `{random_sampling: 0, provider: {opentelemetry: {
      grpc_service: {envoy_grpc: {cluster_name: otel}}, flush_interval: 100ms, propagators: [tracecontext, b3, b3multi, xray]}}}`))
	const tid, parent = "5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8"
	cases := map[string][]string{
		"w3c":     {"Traceparent", "00-" + tid + "-" + parent + "-01"},
		"b3":      {"B3", tid + "-" + parent + "-1"},
		"b3multi": {"X-B3-Traceid", tid, "X-B3-Spanid", parent, "X-B3-Sampled", "1", "X-B3-Parentspanid", "1111111111111111"},
		"xray":    {"X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=" + parent + ";Sampled=1"},
	}
	for name, hdr := range cases {
		t.Run(name, func(t *testing.T) {
			get(t, "http://"+s.Addr("l")+"/", append([]string{"X-Test-Id", name}, hdr...)...)
			var sp testenv.Span
			poll.Eventually(t, 20*time.Second, func() bool {
				spans, _ := col.Spans()
				for _, x := range spans {
					if x.TraceID == tid && x.Name == "ingress" && x.Attrs["guid:x-request-id"] == a.headers(name).Get("X-Request-Id") {
						sp = x
						return true
					}
				}
				return false
			}, "no ingress span of trace %s for %s", tid, name)
			if sp.ParentSpanID != parent {
				t.Fatalf("parent %s, want %s", sp.ParentSpanID, parent)
			}
			h := a.headers(name)
			out := map[string]string{
				"Traceparent":     "00-" + tid + "-" + sp.SpanID + "-01",
				"B3":              tid + "-" + sp.SpanID + "-1",
				"X-B3-Traceid":    tid,
				"X-B3-Spanid":     sp.SpanID,
				"X-Amzn-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=" + sp.SpanID + ";Sampled=1",
			}
			for k, v := range out {
				if h.Get(k) != v {
					t.Errorf("upstream %s = %q, want %q", k, h.Get(k), v)
				}
			}
			if v := h.Get("X-B3-Parentspanid"); v != "" {
				t.Errorf("the client's x-b3-parentspanid %q went upstream", v)
			}
		})
	}
}
