// Package grpcservice is Envoy's envoy.config.core.v3.GrpcService as the
// HTTP filters that call a gRPC service use it (ext_authz, ratelimit): the
// envoy_grpc cluster, its authority and the calls' timeout, and a client
// connection whose transport runs over connections the sluice cluster
// opens (its hosts, health and TLS), as the xDS client's does.
package grpcservice

import (
	"context"
	"fmt"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/config"
)

// GrpcService is Envoy's GrpcService (envoy_grpc only).
type GrpcService struct {
	EnvoyGrpc *EnvoyGrpc `yaml:"envoy_grpc" json:"envoy_grpc,omitempty"`
	// Timeout bounds each call; the filter's default when unset.
	Timeout *config.Duration `yaml:"timeout" json:"timeout,omitempty"`
}

// EnvoyGrpc names the cluster of a gRPC service.
type EnvoyGrpc struct {
	ClusterName string `yaml:"cluster_name" json:"cluster_name"`
	// Authority is the :authority of the calls; the cluster's name when
	// empty, as Envoy.
	Authority string `yaml:"authority" json:"authority,omitempty"`
	// MaxReceiveMessageLength bounds a response; 0 is gRPC's 4 MiB.
	MaxReceiveMessageLength uint32 `yaml:"max_receive_message_length" json:"max_receive_message_length,omitempty"`
}

// Validate records a missing cluster and a timeout that is not above 0.
func (g *GrpcService) Validate(path string, errs *config.Errors) {
	if g.EnvoyGrpc == nil || g.EnvoyGrpc.ClusterName == "" {
		errs.Add(config.Join(path, "envoy_grpc.cluster_name"), "required")
	}
	if g.Timeout != nil && g.Timeout.D() <= 0 {
		errs.Add(config.Join(path, "timeout"), "must be above 0")
	}
}

// TimeoutOr is the configured timeout, else def.
func (g *GrpcService) TimeoutOr(def time.Duration) time.Duration {
	if g.Timeout != nil {
		return g.Timeout.D()
	}
	return def
}

// Dial returns a client connection to the service's cluster; no
// connection is made before the first call.
func (g *GrpcService) Dial(clusters *cluster.Manager) (*grpc.ClientConn, error) {
	name := g.EnvoyGrpc.ClusterName
	authority := g.EnvoyGrpc.Authority
	if authority == "" {
		authority = name
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithAuthority(authority),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			c := clusters.Get(name)
			if c == nil {
				return nil, fmt.Errorf("grpc_service: no cluster %q", name)
			}
			return c.Connect(ctx, 0, false)
		}),
	}
	if n := g.EnvoyGrpc.MaxReceiveMessageLength; n > 0 {
		opts = append(opts, grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(int(n))))
	}
	return grpc.NewClient("passthrough:///"+name, opts...)
}
