package httpfilter

import "net/http"

// GRPCStatusOf maps an HTTP status to a gRPC status code as Envoy's
// Grpc::Utility::httpToGrpcStatus does: what a gRPC client is told when the
// answer is an HTTP error (a local reply, or a non-gRPC upstream answer to
// a gRPC-Web call).
func GRPCStatusOf(status int) int {
	switch status {
	case http.StatusBadRequest:
		return 13 // INTERNAL
	case http.StatusUnauthorized:
		return 16 // UNAUTHENTICATED
	case http.StatusForbidden:
		return 7 // PERMISSION_DENIED
	case http.StatusNotFound:
		return 12 // UNIMPLEMENTED
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return 14 // UNAVAILABLE
	default:
		return 2 // UNKNOWN
	}
}
