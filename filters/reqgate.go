package filters

// Request is one protocol request (not SQL) that an observer asks request
// gates about before forwarding it: a ZooKeeper operation on a znode.
type Request struct {
	// Namespace is the observer's metadata namespace
	// ("envoy.filters.network.zookeeper_proxy"), which Envoy's metadata
	// matchers name.
	Namespace string
	// Op is the operation's name in the observer's vocabulary (ZooKeeper:
	// Envoy's opname, "getdata", "create", ...).
	Op string
	// Path is the resource the operation is on (ZooKeeper: the znode path).
	Path string
	// Metadata is the request's dynamic metadata under Namespace, with
	// Envoy's keys; nil when the observer publishes none.
	Metadata MetadataGetter
}

// MetadataGetter reads one key of an observer's dynamic metadata.
type MetadataGetter interface {
	Get(key string) (string, bool)
}

// RequestGate is consulted by request observers (zookeeper_proxy) for every
// request they can refuse in-band. A refused request is not forwarded and
// is answered with the protocol's own error (ZooKeeper NOAUTH), keeping the
// session; SQLVerdict.Close ends the connection instead. CheckRequest must
// be safe to call from the observer's reading goroutine and fast.
type RequestGate interface {
	CheckRequest(s *Session, r *Request) SQLVerdict
}

// AddRequestGate registers g for this connection.
func (s *Session) AddRequestGate(g RequestGate) {
	s.mu.Lock()
	s.reqGates = append(s.reqGates, g)
	s.mu.Unlock()
}

// HasRequestGates reports whether any gate wants to see requests.
func (s *Session) HasRequestGates() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqGates) > 0
}

// CheckRequest asks every registered gate; the first deny or close wins.
func (s *Session) CheckRequest(r *Request) SQLVerdict {
	s.mu.Lock()
	gates := s.reqGates
	s.mu.Unlock()
	for _, g := range gates {
		if v := g.CheckRequest(s, r); v.Deny || v.Close {
			return v
		}
	}
	return SQLVerdict{}
}
