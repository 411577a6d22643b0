package grpchttp1bridge_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	_ "github.com/sluice-proxy/sluice/filters/http/grpchttp1bridge"
	_ "github.com/sluice-proxy/sluice/filters/httpconn"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// service is grpc-go's interop TestService on a real grpc-go server:
// UnaryCall answers the asked size or status, with a header and a trailer,
// and reports the path it was called on in Username.
type service struct {
	testpb.UnimplementedTestServiceServer
}

func (service) UnaryCall(ctx context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	grpc.SetHeader(ctx, metadata.Pairs("x-header", "h1"))
	grpc.SetTrailer(ctx, metadata.Pairs("x-trailer", "t1"))
	if st := in.GetResponseStatus(); st != nil && st.Code != 0 {
		return nil, status.Error(codes.Code(st.Code), st.Message)
	}
	m, _ := grpc.Method(ctx)
	return &testpb.SimpleResponse{Payload: &testpb.Payload{Body: make([]byte, in.ResponseSize)}, Username: m}, nil
}

const sluiceYAML = `
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - http_connection_manager:
          stat_prefix: in
          route_config:
            virtual_hosts:
              - name: all
                domains: ["*"]
                routes:
                  - match: {prefix: "/", grpc: {}}
                    route: {cluster: c}
                  - match: {prefix: "/"}
                    direct_response: {status: 415, body: {inline_string: "not gRPC"}}
          http_filters:
            - grpc_http1_bridge: %s
            - router: {}
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {}}
`

func serve(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	testpb.RegisterTestServiceServer(srv, service{})
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return ln.Addr().String()
}

func start(t *testing.T, cfg string) *sluicetest.Sluice {
	return sluicetest.Start(t, fmt.Sprintf(sluiceYAML, cfg, serve(t)))
}

// frame is one gRPC length-prefixed message.
func frame(t *testing.T, m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return append(binary.BigEndian.AppendUint32([]byte{0}, uint32(len(b))), b...)
}

// post sends body over HTTP/1.1 with Go's client.
func post(t *testing.T, url, ct string, body []byte) (*http.Response, []byte) {
	t.Helper()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ProtoMajor != 1 {
		t.Fatalf("got %s", resp.Proto)
	}
	return resp, b
}

// TestCurlUnary: curl posts one framed request over HTTP/1.1 and gets the
// framed answer with a Content-Length and the status as headers.
func TestCurlUnary(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed (.ci/deps.sh installs it)")
	}
	s := start(t, "{}")
	in := filepath.Join(t.TempDir(), "req")
	os.WriteFile(in, frame(t, &testpb.SimpleRequest{ResponseSize: 1000}), 0o600)
	out, err := exec.Command(curl, "-sS", "--http1.1", "-D", "-", "-o", filepath.Join(filepath.Dir(in), "resp"),
		"-H", "Content-Type: application/grpc", "--data-binary", "@"+in,
		"http://"+s.Addr("l")+"/grpc.testing.TestService/UnaryCall").Output()
	if err != nil {
		t.Fatal(err)
	}
	head := strings.ToLower(string(out))
	body, _ := os.ReadFile(filepath.Join(filepath.Dir(in), "resp"))
	for _, want := range []string{"http/1.1 200", "grpc-status: 0", "x-header: h1", fmt.Sprintf("content-length: %d", len(body))} {
		if !strings.Contains(head, want) {
			t.Errorf("response lacks %q:\n%s", want, out)
		}
	}
	var resp testpb.SimpleResponse
	if len(body) < 5 || proto.Unmarshal(body[5:], &resp) != nil || len(resp.GetPayload().GetBody()) != 1000 || binary.BigEndian.Uint32(body[1:5]) != uint32(len(body)-5) {
		t.Fatalf("body %q", body)
	}
}

// TestStatusMapping: a status other than OK is answered 503 with
// grpc-status and grpc-message headers, as Envoy's bridge does.
func TestStatusMapping(t *testing.T) {
	s := start(t, "{}")
	resp, body := post(t, "http://"+s.Addr("l")+"/grpc.testing.TestService/UnaryCall", "application/grpc",
		frame(t, &testpb.SimpleRequest{ResponseStatus: &testpb.EchoStatus{Code: 5, Message: "no such thing"}}))
	if resp.StatusCode != 503 || resp.Header.Get("Grpc-Status") != "5" || resp.Header.Get("Grpc-Message") != "no such thing" || len(body) != 0 || resp.ContentLength != 0 {
		t.Fatalf("%d %v %q", resp.StatusCode, resp.Header, body)
	}
}

// TestUpgradeProtobuf: an application/x-protobuf body is framed for the
// gRPC server and the answer unframed; the changed content-type is routed
// again (the grpc: {} route matches only after the upgrade). The query
// string is dropped with ignore_query_parameters.
func TestUpgradeProtobuf(t *testing.T) {
	s := start(t, "{upgrade_protobuf_to_grpc: true, ignore_query_parameters: true}")
	b, _ := proto.Marshal(&testpb.SimpleRequest{ResponseSize: 33})
	resp, body := post(t, "http://"+s.Addr("l")+"/grpc.testing.TestService/UnaryCall?key=1", "application/x-protobuf", b)
	var out testpb.SimpleResponse
	if resp.StatusCode != 200 || resp.Header.Get("Grpc-Status") != "0" || proto.Unmarshal(body, &out) != nil || len(out.GetPayload().GetBody()) != 33 || out.Username != "/grpc.testing.TestService/UnaryCall" {
		t.Fatalf("%d %v %q", resp.StatusCode, resp.Header, body)
	}
	// Without the upgrade the same request is not gRPC: the second route.
	s = start(t, "{}")
	if resp, body := post(t, "http://"+s.Addr("l")+"/grpc.testing.TestService/UnaryCall", "application/x-protobuf", b); resp.StatusCode != 415 {
		t.Fatalf("not upgraded: %d %q", resp.StatusCode, body)
	}
}

// TestLimitsAndHTTP2: a response over the 1 MiB the bridge holds is
// answered 500 and counted rs_too_large; a real gRPC client over HTTP/2
// is not bridged (a 2 MiB answer arrives whole).
func TestLimitsAndHTTP2(t *testing.T) {
	s := start(t, "{}")
	resp, _ := post(t, "http://"+s.Addr("l")+"/grpc.testing.TestService/UnaryCall", "application/grpc", frame(t, &testpb.SimpleRequest{ResponseSize: 2 << 20}))
	if resp.StatusCode != 500 || s.Counter("http.in.rs_too_large") != 1 {
		t.Fatalf("%d, rs_too_large %d", resp.StatusCode, s.Counter("http.in.rs_too_large"))
	}
	cc, err := grpc.NewClient(s.Addr("l"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var tr metadata.MD
	out, err := testpb.NewTestServiceClient(cc).UnaryCall(ctx, &testpb.SimpleRequest{ResponseSize: 2 << 20}, grpc.Trailer(&tr))
	if err != nil || len(out.GetPayload().GetBody()) != 2<<20 || tr.Get("x-trailer")[0] != "t1" {
		t.Fatalf("%v %v", err, tr)
	}
}
