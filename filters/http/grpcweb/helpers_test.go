package grpcweb_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	_ "github.com/sluice-proxy/sluice/filters/http/cors"
	_ "github.com/sluice-proxy/sluice/filters/http/grpcweb"
	_ "github.com/sluice-proxy/sluice/filters/httpconn"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// service is grpc-go's interop TestService on a real grpc-go server:
// UnaryCall answers the asked size or status with a header and a trailer;
// StreamingOutputCall sends one message per response parameter and, after
// the first, waits for release, so a test can see that message arrive
// before the call ends (streaming, not buffering).
type service struct {
	testpb.UnimplementedTestServiceServer
	release chan struct{}
}

func (s *service) UnaryCall(ctx context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	grpc.SetHeader(ctx, metadata.Pairs("x-header", "h1"))
	grpc.SetTrailer(ctx, metadata.Pairs("x-trailer", "t1"))
	if st := in.GetResponseStatus(); st != nil && st.Code != 0 {
		return nil, status.Error(codes.Code(st.Code), st.Message)
	}
	return &testpb.SimpleResponse{Payload: &testpb.Payload{Body: bytes.Repeat([]byte{'r'}, int(in.ResponseSize))}, Username: fmt.Sprint(len(in.GetPayload().GetBody()))}, nil
}

func (s *service) StreamingOutputCall(in *testpb.StreamingOutputCallRequest, st grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
	for i, p := range in.ResponseParameters {
		if err := st.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: bytes.Repeat([]byte{byte('a' + i)}, int(p.Size))}}); err != nil {
			return err
		}
		if i == 0 && s.release != nil {
			select {
			case <-s.release:
			case <-st.Context().Done():
				return st.Context().Err()
			}
		}
	}
	return nil
}

func serveGRPC(t *testing.T, svc *service) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	testpb.RegisterTestServiceServer(srv, svc)
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return ln.Addr().String()
}

// sluiceYAML: grpc_web (and cors, whose route policy exposes the gRPC
// status headers to browsers) in front of an HTTP/2 cluster.
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
                  - match: {prefix: "/"}
                    route: {cluster: c}
                    typed_per_filter_config:
                      cors:
                        allow_origin_string_match: [{exact: "https://app.example"}]
                        allow_methods: "POST"
                        allow_headers: "content-type, x-grpc-web, x-user-agent"
                        expose_headers: "grpc-status, grpc-message"
          http_filters:
            - cors: {}
            - grpc_web: {}
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

// webClient speaks the gRPC-Web wire format (grpc/grpc's
// PROTOCOL-WEB.md) as the grpc-web JS client does, over HTTP/1.1 or h2c.
type webClient struct {
	base string
	text bool
	hc   *http.Client
}

func newClient(t *testing.T, addr string, text, h2 bool) *webClient {
	tr := &http.Transport{}
	if h2 {
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetUnencryptedHTTP2(true)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &webClient{base: "http://" + addr, text: text, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// frame is one gRPC-Web frame: a message, or (trailer) the trailer block.
type frame struct {
	trailer bool
	data    []byte
}

// start sends one call and returns the response with its body unread.
func (c *webClient) start(ctx context.Context, method string, msg proto.Message, hdr ...string) (*http.Response, error) {
	b, err := proto.Marshal(msg)
	if err != nil {
		return nil, err
	}
	body := append(binary.BigEndian.AppendUint32([]byte{0}, uint32(len(b))), b...)
	ct := "application/grpc-web+proto"
	if c.text {
		body = []byte(base64.StdEncoding.EncodeToString(body))
		ct = "application/grpc-web-text"
	}
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+"/grpc.testing.TestService/"+method, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Accept", ct)
	req.Header.Set("X-Grpc-Web", "1")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return c.hc.Do(req)
}

// frames reads the response body's frames one at a time, decoding the
// text form's base64 as it arrives (padded pieces, as servers send).
type frames struct {
	r   *bufio.Reader
	raw io.Reader
}

func newFrames(resp *http.Response, text bool) *frames {
	if !text {
		return &frames{r: bufio.NewReader(resp.Body)}
	}
	return &frames{r: bufio.NewReader(&b64Reader{src: resp.Body})}
}

func (f *frames) next() (frame, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(f.r, hdr[:]); err != nil {
		return frame{}, err
	}
	data := make([]byte, binary.BigEndian.Uint32(hdr[1:]))
	if _, err := io.ReadFull(f.r, data); err != nil {
		return frame{}, err
	}
	return frame{trailer: hdr[0]&0x80 != 0, data: data}, nil
}

// b64Reader decodes base64 read in any pieces, 4 characters at a time, so
// padding may come between pieces.
type b64Reader struct {
	src  io.Reader
	in   []byte
	out  []byte
	done bool
}

func (b *b64Reader) Read(p []byte) (int, error) {
	for len(b.out) == 0 {
		if b.done {
			return 0, io.EOF
		}
		buf := make([]byte, 4096)
		n, err := b.src.Read(buf)
		b.in = append(b.in, buf[:n]...)
		whole := len(b.in) / 4 * 4
		for i := 0; i < whole; i += 4 {
			d, derr := base64.StdEncoding.DecodeString(string(b.in[i : i+4]))
			if derr != nil {
				return 0, derr
			}
			b.out = append(b.out, d...)
		}
		b.in = b.in[whole:]
		if err == io.EOF {
			if len(b.in) != 0 {
				return 0, fmt.Errorf("%d base64 bytes left over", len(b.in))
			}
			b.done = true
		} else if err != nil {
			return 0, err
		}
	}
	n := copy(p, b.out)
	b.out = b.out[n:]
	return n, nil
}

// parseTrailers reads a trailer block ("name:value\r\n" lines).
func parseTrailers(b []byte) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

func start(t *testing.T, svc *service) *sluicetest.Sluice { return startAt(t, serveGRPC(t, svc)) }

// startAt runs sluice with the cluster's one endpoint at upstream.
func startAt(t *testing.T, upstream string) *sluicetest.Sluice {
	return sluicetest.Start(t, fmt.Sprintf(sluiceYAML, upstream))
}
