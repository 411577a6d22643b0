package httpconn_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// rawCodec carries message bytes as they are: bench/grpc/server.py's
// /bench.Echo/Call is a protobuf-free echo.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *v.(*[]byte), nil }
func (rawCodec) Unmarshal(b []byte, v any) error {
	*v.(*[]byte) = append([]byte(nil), b...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// TestGRPCPythonServer sends calls from grpc-go through sluice to Python
// grpcio servers (Debian's python3-grpcio, two processes on one port) and
// checks each echo and that the servers counted every call.
func TestGRPCPythonServer(t *testing.T) {
	py := testenv.PythonGRPC(t, 2, 0)
	s := sluicetest.Start(t, hcmConfig(py.Addr(), "", grpcRoutes)+h2Cluster)
	cc, err := grpc.NewClient(s.Addr("l"), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const calls = 40
	for i := 0; i < calls; i++ {
		req := []byte(fmt.Sprintf("call %d", i))
		var resp []byte
		if err := cc.Invoke(ctx, "/bench.Echo/Call", &req, &resp); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if !bytes.Equal(resp, req) {
			t.Fatalf("call %d: echo %q", i, resp)
		}
	}
	sum := 0
	for _, n := range py.Counts() {
		sum += n
	}
	if sum != calls {
		t.Fatalf("the Python servers counted %d calls, want %d", sum, calls)
	}
}
