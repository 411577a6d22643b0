package httpfilter

import "context"

// Metadata is Envoy's dynamic metadata of a request: values by filter
// namespace ("envoy.filters.http.jwt_authn") and key. A filter adds to it
// with WithMetadata and passes the new context on; later filters (rbac)
// read it with MetadataFromContext.
type Metadata map[string]map[string]any

type metadataKey struct{}

// WithMetadata returns ctx whose metadata has value under namespace and
// key; the metadata of ctx is copied, never changed, so it is safe to
// share. The request's Stream keeps the result for the access log.
func WithMetadata(ctx context.Context, namespace, key string, value any) context.Context {
	md := with(MetadataFromContext(ctx), namespace, key, value)
	if st := FromContext(ctx); st != nil {
		st.md.Store(&md)
	}
	return context.WithValue(ctx, metadataKey{}, md)
}

// with returns a copy of old with value under namespace and key.
func with(old Metadata, namespace, key string, value any) Metadata {
	md := make(Metadata, len(old)+1)
	for ns, kv := range old {
		md[ns] = kv
	}
	kv := make(map[string]any, len(old[namespace])+1)
	for k, v := range old[namespace] {
		kv[k] = v
	}
	kv[key] = value
	md[namespace] = kv
	return md
}

// MetadataFromContext returns the request's metadata (nil when none).
func MetadataFromContext(ctx context.Context) Metadata {
	md, _ := ctx.Value(metadataKey{}).(Metadata)
	return md
}
