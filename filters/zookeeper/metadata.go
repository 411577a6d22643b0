package zookeeper

import (
	"strconv"

	zk "github.com/sluice-proxy/sluice/codec/zookeeper"
)

// MetadataNamespace is Envoy's namespace of zookeeper_proxy's dynamic
// metadata.
const MetadataNamespace = "envoy.filters.network.zookeeper_proxy"

// Metadata is the dynamic metadata of the last message decoded on a
// connection (Envoy replaces it per message), published under
// MetadataNamespace. It is immutable once published; values are kept
// typed and formatted when asked for, so publishing costs one allocation.
type Metadata struct {
	Opname string
	Path   string
	// CreateType is create's flags by Envoy's names ("ephemeral").
	CreateType string
	Watch      *bool
	Version    *int32
	Xid        *int32
	Zxid       *int64
	Error      *int32
	Timeout    *int32
	// ProtocolVersion and ReadOnly are the connect response's.
	ProtocolVersion *int32
	ReadOnly        *bool
	Bytes           int
	EventType       *int32
	ClientState     *int32

	// storage behind the pointers, so that one Metadata is one allocation
	b1, b2         bool
	i1, i2, i3, i4 int32
	i64            int64
}

// Keys are Envoy's metadata keys, in the order Map and the docs list them.
var Keys = []string{"opname", "path", "create_type", "watch", "version", "xid", "zxid", "error",
	"timeout", "protocol_version", "readonly", "bytes", "event_type", "client_state"}

// Get returns one key's value as Envoy writes it (strings; booleans
// "true"/"false", readonly as Envoy's "0"/"1").
func (m *Metadata) Get(key string) (string, bool) {
	i32 := func(p *int32) (string, bool) {
		if p == nil {
			return "", false
		}
		return strconv.Itoa(int(*p)), true
	}
	switch key {
	case "opname":
		return m.Opname, m.Opname != ""
	case "path":
		return m.Path, m.Path != ""
	case "create_type":
		return m.CreateType, m.CreateType != ""
	case "watch":
		if m.Watch == nil {
			return "", false
		}
		return strconv.FormatBool(*m.Watch), true
	case "version":
		return i32(m.Version)
	case "xid":
		return i32(m.Xid)
	case "zxid":
		if m.Zxid == nil {
			return "", false
		}
		return strconv.FormatInt(*m.Zxid, 10), true
	case "error":
		return i32(m.Error)
	case "timeout":
		return i32(m.Timeout)
	case "protocol_version":
		return i32(m.ProtocolVersion)
	case "readonly":
		if m.ReadOnly == nil {
			return "", false
		}
		if *m.ReadOnly {
			return "1", true
		}
		return "0", true
	case "bytes":
		return strconv.Itoa(m.Bytes), m.Bytes > 0
	case "event_type":
		return i32(m.EventType)
	case "client_state":
		return i32(m.ClientState)
	}
	return "", false
}

// Map returns the metadata as Envoy's struct of strings.
func (m *Metadata) Map() map[string]string {
	out := make(map[string]string, 8)
	for _, k := range Keys {
		if v, ok := m.Get(k); ok {
			out[k] = v
		}
	}
	return out
}

// requestMetadata describes a request as Envoy's filter does.
func requestMetadata(r *zk.Request) *Metadata {
	m := &Metadata{Opname: r.Op.Name(), Path: r.Path, Bytes: r.Size}
	switch r.Op {
	case zk.OpConnect:
		if r.ReadOnly {
			m.Opname = "connect_readonly"
		}
	case zk.OpGetData, zk.OpExists, zk.OpGetChildren, zk.OpGetChildren2:
		m.b1 = r.Watch
		m.Watch = &m.b1
	case zk.OpCreate, zk.OpCreate2, zk.OpCreateContainer, zk.OpCreateTTL:
		m.CreateType = zk.CreateMode(r.Flags)
	}
	if r.HasVersion {
		m.i1 = r.Version
		m.Version = &m.i1
	}
	return m
}

// responseMetadata describes a reply, a watch event or the connect response.
func responseMetadata(r *zk.Response, o *opStats) *Metadata {
	m := &Metadata{Bytes: r.Size}
	switch {
	case r.Connect:
		m.Opname = "connect_response"
		m.i1, m.i2, m.b1 = r.ProtocolVersion, r.Timeout, r.ReadOnly
		m.ProtocolVersion, m.Timeout, m.ReadOnly = &m.i1, &m.i2, &m.b1
		return m
	case r.Event:
		m.Opname, m.Path = "watch_event", r.Path
		m.i1, m.i2 = r.EventType, r.State
		m.EventType, m.ClientState = &m.i1, &m.i2
	case o != nil:
		m.Opname = o.respName
	}
	m.i3, m.i4, m.i64 = r.Xid, r.Err, r.Zxid
	if !r.Event {
		m.Xid = &m.i3
	}
	m.Zxid, m.Error = &m.i64, &m.i4
	return m
}
