package xds

import (
	"fmt"
	"sync"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/proto"
)

// Envoy's type URLs for the resource types sluice reads.
const (
	ListenerType = "type.googleapis.com/envoy.config.listener.v3.Listener"
	ClusterType  = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
	EndpointType = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
)

// TypeHandler describes one resource type to the client: how to decode and
// name its resources and how the protocol treats them. RDS (route
// configurations) and SDS (secrets) plug in as handlers of their own, with
// the assembly step (assemble.go) taught where their resources go.
type TypeHandler struct {
	// TypeURL is the resource's Any type URL.
	TypeURL string
	// Short is Envoy's short name in logs and stats ("cds", "lds", "eds").
	Short string
	// New returns an empty message to decode a resource into.
	New func() proto.Message
	// Name returns a decoded resource's name.
	Name func(proto.Message) string
	// FullState types (LDS, CDS) list every resource in each State of the
	// World response: a resource missing from one is removed. For the
	// others (EDS) only the resources named in a response change.
	FullState bool
	// Wildcard types subscribe to every resource; the others to the names
	// the client needs (EDS: its clusters' service names).
	Wildcard bool
}

var (
	handlersMu sync.RWMutex
	handlers   = map[string]*TypeHandler{}
)

// Register adds a resource type. It panics on an empty or duplicate type
// URL or a handler without New or Name: registration happens at init,
// where a mistake must be loud.
func Register(h TypeHandler) {
	if h.TypeURL == "" || h.New == nil || h.Name == nil || h.Short == "" {
		panic(fmt.Sprintf("xds: incomplete handler for %q", h.TypeURL))
	}
	handlersMu.Lock()
	defer handlersMu.Unlock()
	if handlers[h.TypeURL] != nil {
		panic("xds: duplicate handler for " + h.TypeURL)
	}
	handlers[h.TypeURL] = &h
}

func handler(typeURL string) *TypeHandler {
	handlersMu.RLock()
	defer handlersMu.RUnlock()
	return handlers[typeURL]
}

func init() {
	Register(TypeHandler{TypeURL: ListenerType, Short: "lds", FullState: true, Wildcard: true,
		New:  func() proto.Message { return new(listenerv3.Listener) },
		Name: func(m proto.Message) string { return m.(*listenerv3.Listener).GetName() }})
	Register(TypeHandler{TypeURL: ClusterType, Short: "cds", FullState: true, Wildcard: true,
		New:  func() proto.Message { return new(clusterv3.Cluster) },
		Name: func(m proto.Message) string { return m.(*clusterv3.Cluster).GetName() }})
	Register(TypeHandler{TypeURL: EndpointType, Short: "eds",
		New: func() proto.Message { return new(endpointv3.ClusterLoadAssignment) },
		Name: func(m proto.Message) string {
			return m.(*endpointv3.ClusterLoadAssignment).GetClusterName()
		}})
}
