package extauthz

import (
	"context"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/sluice-proxy/sluice/cluster"
)

// grpcClient calls envoy.service.auth.v3.Authorization through a cluster
// with go-control-plane's generated client (grpcservice.Dial).
type grpcClient struct {
	cc     *grpc.ClientConn
	client authv3.AuthorizationClient
}

func newGRPCClient(g *GrpcService, clusters *cluster.Manager) (*grpcClient, error) {
	cc, err := g.Dial(clusters)
	if err != nil {
		return nil, err
	}
	return &grpcClient{cc: cc, client: authv3.NewAuthorizationClient(cc)}, nil
}

// check asks the service; any call error is a failed check.
func (g *grpcClient) check(ctx context.Context, req *authv3.CheckRequest) response {
	resp, err := g.client.Check(ctx, req)
	if err != nil {
		return response{verdict: failed}
	}
	if codes.Code(resp.GetStatus().GetCode()) != codes.OK {
		out := response{verdict: denied, code: 403}
		if d := resp.GetDeniedResponse(); d != nil {
			if c := int(d.GetStatus().GetCode()); c != 0 {
				out.code = c
			}
			out.body = d.GetBody()
			out.client = options(d.GetHeaders(), false)
		}
		return out
	}
	out := response{verdict: allowed}
	if ok := resp.GetOkResponse(); ok != nil {
		out.upstream = options(ok.GetHeaders(), false)
		out.remove = ok.GetHeadersToRemove()
		out.client = options(ok.GetResponseHeadersToAdd(), true)
	}
	if md := resp.GetDynamicMetadata(); md != nil {
		out.metadata = md.AsMap()
	}
	return out
}

// options turns HeaderValueOptions into headers: an explicit append_action
// wins; else append: true (or, for response headers, unset) appends and
// anything else replaces, as Envoy reads OkHttpResponse.
func options(l []*corev3.HeaderValueOption, appendDefault bool) []header {
	out := make([]header, 0, len(l))
	for _, o := range l {
		h := header{name: o.GetHeader().GetKey(), value: o.GetHeader().GetValue(), appendTo: appendDefault}
		if o.Append != nil {
			h.appendTo = o.GetAppend().GetValue()
		}
		switch o.GetAppendAction() {
		case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD:
			h.appendTo = false
		}
		if h.name != "" {
			out = append(out, h)
		}
	}
	return out
}

func (g *grpcClient) close() error { return g.cc.Close() }
