package accesslog

import (
	"strconv"
)

// grpcNames are gRPC's status codes 0..16 in Envoy's CAMEL_STRING and
// SNAKE_STRING spellings of %GRPC_STATUS%.
var grpcNames = [...][2]string{
	{"OK", "OK"}, {"Canceled", "CANCELLED"}, {"Unknown", "UNKNOWN"}, {"InvalidArgument", "INVALID_ARGUMENT"},
	{"DeadlineExceeded", "DEADLINE_EXCEEDED"}, {"NotFound", "NOT_FOUND"}, {"AlreadyExists", "ALREADY_EXISTS"},
	{"PermissionDenied", "PERMISSION_DENIED"}, {"ResourceExhausted", "RESOURCE_EXHAUSTED"},
	{"FailedPrecondition", "FAILED_PRECONDITION"}, {"Aborted", "ABORTED"}, {"OutOfRange", "OUT_OF_RANGE"},
	{"Unimplemented", "UNIMPLEMENTED"}, {"Internal", "INTERNAL"}, {"Unavailable", "UNAVAILABLE"},
	{"DataLoss", "DATA_LOSS"}, {"Unauthenticated", "UNAUTHENTICATED"},
}

// grpcFormats are %GRPC_STATUS(X)%'s arguments; none means CAMEL_STRING.
var grpcFormats = map[string]bool{"": true, "CAMEL_STRING": true, "SNAKE_STRING": true, "NUMBER": true}

// grpcStatus is %GRPC_STATUS%: the response's grpc-status, from its
// trailers or, for a trailers-only response, its headers; "-" when it has
// none. Codes outside 0..16 print as numbers.
func (r *Record) grpcStatus(format string) (string, bool) {
	v := r.RespTrailer.Get("Grpc-Status")
	if v == "" {
		v = r.RespHeader.Get("Grpc-Status")
	}
	if v == "" {
		return "", false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return "", false
	}
	if format == "NUMBER" || n >= len(grpcNames) {
		return strconv.Itoa(n), true
	}
	if format == "SNAKE_STRING" {
		return grpcNames[n][1], true
	}
	return grpcNames[n][0], true
}
