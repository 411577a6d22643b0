package envoy

// The retry host predicate's config type, so an Envoy bootstrap's Any
// resolves (its table is in spec_route.go).
import _ "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/host/previous_hosts/v3"
