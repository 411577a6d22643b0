package main

import (
	"context"
	"encoding/json"
	"log"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
)

// grpcServer is envoy.service.auth.v3.Authorization over the policy.
type grpcServer struct {
	authv3.UnimplementedAuthorizationServer
	d *decider
}

// Check builds the plugin's input from the request and answers with the
// policy's decision.
func (s *grpcServer) Check(ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(req)
	if err != nil {
		return nil, err
	}
	var input map[string]any
	dec := json.NewDecoder(bytesReader(b))
	dec.UseNumber()
	if err := dec.Decode(&input); err != nil {
		return nil, err
	}
	h := req.GetAttributes().GetRequest().GetHttp()
	body := h.GetBody()
	if body == "" && len(h.GetRawBody()) > 0 {
		body = string(h.GetRawBody())
	}
	addParsed(input, h.GetPath(), body, h.GetHeaders()["content-type"])
	dd, err := s.d.decide(ctx, input)
	if err != nil {
		log.Printf("opaauthz: %v", err)
		return nil, err
	}
	if dd.Allowed {
		ok := &authv3.OkHttpResponse{Headers: options(dd.Headers), ResponseHeadersToAdd: options(dd.ResponseHeaders), HeadersToRemove: dd.RemoveHeaders}
		return &authv3.CheckResponse{Status: &status.Status{Code: int32(codes.OK)}, HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: ok}}, nil
	}
	code := dd.Status
	if code == 0 {
		code = 403
	}
	denied := &authv3.DeniedHttpResponse{Status: &typev3.HttpStatus{Code: typev3.StatusCode(code)}, Headers: options(dd.ResponseHeaders), Body: dd.Body}
	return &authv3.CheckResponse{Status: &status.Status{Code: int32(codes.PermissionDenied)}, HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: denied}}, nil
}

func options(m map[string]string) []*corev3.HeaderValueOption {
	var out []*corev3.HeaderValueOption
	for k, v := range m {
		out = append(out, &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, Value: v},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD})
	}
	return out
}
