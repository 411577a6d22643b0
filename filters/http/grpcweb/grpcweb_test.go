package grpcweb_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/protobuf/proto"
)

// unary makes one UnaryCall and returns the response, its message (nil
// if none) and its trailers.
func unary(t *testing.T, c *webClient, in *testpb.SimpleRequest, hdr ...string) (*http.Response, *testpb.SimpleResponse, map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := c.start(ctx, "UnaryCall", in, hdr...)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	fr := newFrames(resp, c.text)
	var out *testpb.SimpleResponse
	for {
		f, err := fr.next()
		if err == io.EOF {
			return resp, out, nil
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.trailer {
			if _, err := fr.next(); err != io.EOF {
				t.Fatalf("a frame after the trailers: %v", err)
			}
			return resp, out, parseTrailers(f.data)
		}
		out = &testpb.SimpleResponse{}
		if err := proto.Unmarshal(f.data, out); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUnary: binary and text, over HTTP/1.1 and HTTP/2, a call with a
// 100 KiB request and response, headers, and the trailers as the last frame.
func TestUnary(t *testing.T) {
	s := start(t, &service{})
	for _, tc := range []struct {
		name     string
		text, h2 bool
		ct       string
	}{
		{"binary-h1", false, false, "application/grpc-web+proto"},
		{"text-h1", true, false, "application/grpc-web-text+proto"},
		{"binary-h2", false, true, "application/grpc-web+proto"},
		{"text-h2", true, true, "application/grpc-web-text+proto"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, s.Addr("l"), tc.text, tc.h2)
			resp, out, tr := unary(t, c, &testpb.SimpleRequest{ResponseSize: 100 << 10, Payload: &testpb.Payload{Body: make([]byte, 100<<10+1)}})
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.ct || resp.Header.Get("X-Header") != "h1" {
				t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
			}
			if out == nil || len(out.GetPayload().GetBody()) != 100<<10 || out.Username != "102401" {
				t.Fatalf("response %v", out)
			}
			if tr["grpc-status"] != "0" || tr["x-trailer"] != "t1" {
				t.Fatalf("trailers %v", tr)
			}
			if len(resp.Trailer) != 0 || resp.Header.Get("Grpc-Status") != "" {
				t.Fatalf("the status also went as HTTP trailers/headers: %v %v", resp.Trailer, resp.Header)
			}
		})
	}
	s.WaitCounter("cluster.c.grpc-web.grpc.testing.TestService.UnaryCall.success", 4, 5*time.Second)
	for name, want := range map[string]uint64{
		"cluster.c.grpc-web.grpc.testing.TestService.UnaryCall.total": 4,
		"cluster.c.grpc-web.grpc.testing.TestService.UnaryCall.0":     4,
	} {
		if got := s.Counter(name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
}

// TestStatus: a failing call's status and percent-encoded message reach
// the client in the trailer frame, in both encodings.
func TestStatus(t *testing.T) {
	s := start(t, &service{})
	for _, text := range []bool{false, true} {
		c := newClient(t, s.Addr("l"), text, false)
		_, out, tr := unary(t, c, &testpb.SimpleRequest{ResponseStatus: &testpb.EchoStatus{Code: 5, Message: "kein Eintrag für 100%"}})
		if out != nil || tr["grpc-status"] != "5" || tr["grpc-message"] != "kein Eintrag f%C3%BCr 100%25" {
			t.Fatalf("text=%v: %v %v", text, out, tr)
		}
	}
	s.WaitCounter("cluster.c.grpc-web.grpc.testing.TestService.UnaryCall.failure", 2, 5*time.Second)
	if got := s.Counter("cluster.c.grpc-web.grpc.testing.TestService.UnaryCall.5"); got != 2 {
		t.Fatalf("status 5 counted %d times", got)
	}
}

// TestServerStreaming: the first message arrives while the server still
// holds the call open (it waits for the test to release it), so the filter
// streams rather than buffers; in text mode each flushed piece decodes.
func TestServerStreaming(t *testing.T) {
	for _, text := range []bool{false, true} {
		svc := &service{release: make(chan struct{})}
		s := start(t, svc)
		c := newClient(t, s.Addr("l"), text, false)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		resp, err := c.start(ctx, "StreamingOutputCall", &testpb.StreamingOutputCallRequest{ResponseParameters: []*testpb.ResponseParameters{{Size: 7}, {Size: 70000}, {Size: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		fr := newFrames(resp, text)
		var sizes []int
		for {
			f, err := fr.next()
			if err != nil {
				t.Fatalf("text=%v after %v: %v", text, sizes, err)
			}
			if f.trailer {
				if tr := parseTrailers(f.data); tr["grpc-status"] != "0" {
					t.Fatalf("trailers %v", tr)
				}
				break
			}
			m := &testpb.StreamingOutputCallResponse{}
			if err := proto.Unmarshal(f.data, m); err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(m.GetPayload().GetBody()))
			if len(sizes) == 1 {
				close(svc.release) // only now may the server go on
			}
		}
		resp.Body.Close()
		cancel()
		if len(sizes) != 3 || sizes[0] != 7 || sizes[1] != 70000 || sizes[2] != 1 {
			t.Fatalf("text=%v: messages %v", text, sizes)
		}
	}
}

// TestCORS: the browser's preflight is answered by the cors filter and
// the call's response exposes grpc-status and grpc-message.
func TestCORS(t *testing.T) {
	s := start(t, &service{})
	req, _ := http.NewRequest("OPTIONS", "http://"+s.Addr("l")+"/grpc.testing.TestService/UnaryCall", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-grpc-web")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" || resp.Header.Get("Access-Control-Allow-Headers") != "content-type, x-grpc-web, x-user-agent" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	c := newClient(t, s.Addr("l"), false, false)
	resp, out, tr := unary(t, c, &testpb.SimpleRequest{ResponseSize: 3}, "Origin", "https://app.example")
	if out == nil || tr["grpc-status"] != "0" || resp.Header.Get("Access-Control-Expose-Headers") != "grpc-status, grpc-message" || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatalf("call: %v %v %v", out, tr, resp.Header)
	}
}

// TestNotGRPC: answers that are not gRPC become gRPC-Web statuses: the
// router's own reply when the upstream is down (UNAVAILABLE, trailers-only
// in the headers), an HTTP/2 upstream's plain 503 (grpc-message from its
// body), and bad base64 from the client (400, INTERNAL).
func TestNotGRPC(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	s := startAt(t, dead)
	c := newClient(t, s.Addr("l"), false, false)
	resp, out, tr := unary(t, c, &testpb.SimpleRequest{})
	if out != nil || tr != nil || resp.StatusCode != 200 || resp.Header.Get("Grpc-Status") != "14" || resp.Header.Get("Content-Type") != "application/grpc-web+proto" {
		t.Fatalf("dead upstream: %d %v %v %v", resp.StatusCode, resp.Header, out, tr)
	}

	h2 := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(503)
		io.WriteString(w, "overloaded\n")
	})}
	h2.Protocols = new(http.Protocols)
	h2.Protocols.SetUnencryptedHTTP2(true)
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go h2.Serve(ln)
	t.Cleanup(func() { h2.Close() })
	s = startAt(t, ln.Addr().String())
	for _, text := range []bool{false, true} {
		c = newClient(t, s.Addr("l"), text, false)
		resp, out, tr = unary(t, c, &testpb.SimpleRequest{})
		if out != nil || tr != nil || resp.StatusCode != 503 || resp.Header.Get("Grpc-Status") != "14" || resp.Header.Get("Grpc-Message") != "overloaded%0A" {
			t.Fatalf("text=%v plain 503: %d %v", text, resp.StatusCode, resp.Header)
		}
	}

	req, _ := http.NewRequest("POST", "http://"+s.Addr("l")+"/grpc.testing.TestService/UnaryCall", strings.NewReader("AAAAAAA"))
	req.Header.Set("Content-Type", "application/grpc-web-text")
	resp, err = c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("Grpc-Status") != "13" || resp.Header.Get("Grpc-Message") != "Bad gRPC-web request, invalid base64 data." {
		t.Fatalf("bad base64: %d %v", resp.StatusCode, resp.Header)
	}
}
