// Command opaauthz is an Envoy external authorization server that decides
// with Open Policy Agent: the gRPC Authorization service
// (envoy.service.auth.v3) and Envoy's HTTP ext_authz protocol, both
// evaluating one Rego policy with OPA's Go API.
//
// It stands in for OPA's own Envoy plugin (opa-envoy-plugin), which the Go
// module proxy does not serve; the input document follows that plugin's
// (input.attributes as the CheckRequest in proto JSON, input.parsed_path,
// input.parsed_query, input.parsed_body) so a policy written for the plugin
// runs here unchanged. It is its own module so that OPA's dependency graph
// (a newer gRPC among others) stays out of sluice's go.mod.
//
// The query's result is a boolean (allowed or not) or an object with
// allowed, headers (added upstream), response_headers_to_add,
// request_headers_to_remove, http_status and body, as the plugin reads it.
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/open-policy-agent/opa/v1/rego"
	"google.golang.org/grpc"
)

func main() {
	policy := flag.String("policy", "", "Rego policy file")
	query := flag.String("query", "data.envoy.authz.allow", "the decision's query")
	grpcAddr := flag.String("grpc", "127.0.0.1:9191", "gRPC Authorization service address")
	httpAddr := flag.String("http", "", "HTTP ext_authz address (empty: none)")
	httpPrefix := flag.String("http-prefix", "", "path prefix the HTTP service expects (Envoy's path_prefix); others get 404")
	flag.Parse()
	ctx := context.Background()
	pq, err := rego.New(rego.Query(*query), rego.Load([]string{*policy}, nil)).PrepareForEval(ctx)
	if err != nil {
		log.Fatalf("opaauthz: policy: %v", err)
	}
	d := &decider{q: pq}
	gl, err := net.Listen("tcp", *grpcAddr)
	if err != nil {
		log.Fatal(err)
	}
	gs := grpc.NewServer()
	authv3.RegisterAuthorizationServer(gs, &grpcServer{d: d})
	go func() { _ = gs.Serve(gl) }()
	var hs *http.Server
	if *httpAddr != "" {
		hl, err := net.Listen("tcp", *httpAddr)
		if err != nil {
			log.Fatal(err)
		}
		hs = &http.Server{Handler: &httpServer{d: d, prefix: *httpPrefix}}
		go func() { _ = hs.Serve(hl) }()
	}
	log.Printf("opaauthz: serving gRPC on %s, HTTP on %q", gl.Addr(), *httpAddr)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	gs.Stop()
	if hs != nil {
		_ = hs.Close()
	}
}
