package config

// GRPCHealthCheck is Envoy's grpc_health_check: a grpc.health.v1
// Health/Check call over HTTP/2 (h2c), healthy when the answer is SERVING.
type GRPCHealthCheck struct {
	// ServiceName is the service asked about; empty asks about the server
	// as a whole.
	ServiceName string `yaml:"service_name" json:"service_name,omitempty"`
	// Authority is the :authority of the call; default the cluster name,
	// as in Envoy.
	Authority string `yaml:"authority" json:"authority,omitempty"`
}
