package zookeeper

import (
	"strconv"
	"sync"

	zk "github.com/sluice-proxy/sluice/codec/zookeeper"
)

// MetadataNamespace is Envoy's namespace of zookeeper_proxy's dynamic
// metadata.
const MetadataNamespace = "envoy.filters.network.zookeeper_proxy"

// Keys are Envoy's metadata keys, in the order Map and the docs list them.
var Keys = []string{"opname", "path", "create_type", "watch", "version", "xid", "zxid", "error",
	"timeout", "protocol_version", "readonly", "bytes", "event_type", "client_state"}

// Which optional keys a Metadata has.
const (
	hasWatch uint16 = 1 << iota
	hasVersion
	hasXid
	hasZxid
	hasError
	hasTimeout
	hasProtocolVersion
	hasReadOnly
	hasEventType
	hasClientState
)

// Metadata is one message's dynamic metadata with Envoy's keys (Envoy
// replaces it per message). Values are kept typed and formatted when asked
// for; Has says which optional ones are set.
type Metadata struct {
	Opname     string
	Path       string
	CreateType string // create's flags by Envoy's names ("ephemeral")
	Bytes      int
	Watch      bool
	ReadOnly   bool
	Version    int32
	Xid        int32
	Error      int32
	Timeout    int32
	// ProtocolVersion is the connect response's.
	ProtocolVersion int32
	EventType       int32
	ClientState     int32
	Zxid            int64
	Has             uint16
}

// Get returns one key's value as Envoy writes it: strings, booleans
// "true"/"false", readonly as Envoy's "0"/"1".
func (m *Metadata) Get(key string) (string, bool) {
	i32 := func(v int32, bit uint16) (string, bool) {
		if m.Has&bit == 0 {
			return "", false
		}
		return strconv.Itoa(int(v)), true
	}
	switch key {
	case "opname":
		return m.Opname, m.Opname != ""
	case "path":
		return m.Path, m.Path != ""
	case "create_type":
		return m.CreateType, m.CreateType != ""
	case "watch":
		return strconv.FormatBool(m.Watch), m.Has&hasWatch != 0
	case "version":
		return i32(m.Version, hasVersion)
	case "xid":
		return i32(m.Xid, hasXid)
	case "zxid":
		return strconv.FormatInt(m.Zxid, 10), m.Has&hasZxid != 0
	case "error":
		return i32(m.Error, hasError)
	case "timeout":
		return i32(m.Timeout, hasTimeout)
	case "protocol_version":
		return i32(m.ProtocolVersion, hasProtocolVersion)
	case "readonly":
		if m.ReadOnly {
			return "1", m.Has&hasReadOnly != 0
		}
		return "0", m.Has&hasReadOnly != 0
	case "bytes":
		return strconv.Itoa(m.Bytes), m.Bytes > 0
	case "event_type":
		return i32(m.EventType, hasEventType)
	case "client_state":
		return i32(m.ClientState, hasClientState)
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

// fillRequest describes a request as Envoy's filter does (Path aside).
func fillRequest(m *Metadata, r *zk.Request) {
	*m = Metadata{Opname: r.Op.Name(), Bytes: r.Size}
	switch r.Op {
	case zk.OpConnect:
		if r.ReadOnly {
			m.Opname = "connect_readonly"
		}
	case zk.OpGetData, zk.OpExists, zk.OpGetChildren, zk.OpGetChildren2:
		m.Watch, m.Has = r.Watch, m.Has|hasWatch
	case zk.OpCreate, zk.OpCreate2, zk.OpCreateContainer, zk.OpCreateTTL:
		m.CreateType = zk.CreateMode(r.Flags)
	}
	if r.HasVersion {
		m.Version, m.Has = r.Version, m.Has|hasVersion
	}
}

// fillResponse describes a reply, a watch event or the connect response
// (Path aside).
func fillResponse(m *Metadata, r *zk.Response, o *opStats) {
	*m = Metadata{Bytes: r.Size}
	switch {
	case r.Connect:
		m.Opname = "connect_response"
		m.ProtocolVersion, m.Timeout, m.ReadOnly = r.ProtocolVersion, r.Timeout, r.ReadOnly
		m.Has = hasProtocolVersion | hasTimeout | hasReadOnly
		return
	case r.Event:
		m.Opname = "watch_event"
		m.EventType, m.ClientState = r.EventType, r.State
		m.Has = hasEventType | hasClientState
	default:
		if o != nil {
			m.Opname = o.respName
		}
		m.Xid, m.Has = r.Xid, hasXid
	}
	m.Zxid, m.Error, m.Has = r.Zxid, r.Err, m.Has|hasZxid|hasError
}

// requestMetadata is a request's own Metadata, for the gates.
func requestMetadata(r *zk.Request) *Metadata {
	m := &Metadata{}
	fillRequest(m, r)
	m.Path = string(r.Path)
	return m
}

// liveMetadata is a connection's metadata: published once, updated in
// place per message under its lock (so that observing allocates nothing;
// the path is copied into a reused buffer and made a string only when
// read).
type liveMetadata struct {
	mu   sync.Mutex
	m    Metadata
	path []byte
}

func (l *liveMetadata) setRequest(r *zk.Request) {
	l.mu.Lock()
	fillRequest(&l.m, r)
	l.path = append(l.path[:0], r.Path...)
	l.mu.Unlock()
}

func (l *liveMetadata) setResponse(r *zk.Response, o *opStats) {
	l.mu.Lock()
	fillResponse(&l.m, r, o)
	l.path = append(l.path[:0], r.Path...)
	l.mu.Unlock()
}

func (l *liveMetadata) setError() {
	l.mu.Lock()
	l.m = Metadata{Opname: "error"}
	l.path = l.path[:0]
	l.mu.Unlock()
}

// Snapshot returns a copy of the current metadata.
func (l *liveMetadata) Snapshot() *Metadata {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.m
	m.Path = string(l.path)
	return &m
}

// Get returns one key of the current metadata.
func (l *liveMetadata) Get(key string) (string, bool) { return l.Snapshot().Get(key) }

// Map returns the current metadata as Envoy's struct of strings.
func (l *liveMetadata) Map() map[string]string { return l.Snapshot().Map() }
