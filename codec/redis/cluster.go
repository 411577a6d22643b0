package redis

import (
	"bytes"
	"errors"
	"fmt"
)

// Redirect is a Redis Cluster redirection error: "MOVED <slot> <addr>" or
// "ASK <slot> <addr>".
type Redirect struct {
	// Ask is true for ASK (one-shot, send ASKING first), false for MOVED.
	Ask bool
	// Slot is the hash slot, in [0, SlotCount).
	Slot int
	// Addr is "host:port" as the server wrote it (an IPv6 host is not
	// bracketed; the host may be empty, meaning the replying node's host).
	// It points into the parsed buffer.
	Addr []byte
}

// ParseRedirect parses the text of an error reply (Value.Str of a '-'
// reply, or the line with its leading '-' and trailing CRLF) as a
// redirection. ok is false for any other error.
func ParseRedirect(msg []byte) (r Redirect, ok bool) {
	msg = bytes.TrimPrefix(msg, []byte("-"))
	msg = bytes.TrimSuffix(msg, []byte("\r\n"))
	switch {
	case bytes.HasPrefix(msg, []byte("MOVED ")):
		msg = msg[len("MOVED "):]
	case bytes.HasPrefix(msg, []byte("ASK ")):
		r.Ask = true
		msg = msg[len("ASK "):]
	default:
		return Redirect{}, false
	}
	sp := bytes.IndexByte(msg, ' ')
	if sp < 0 {
		return Redirect{}, false
	}
	slot, okSlot := parseInt(msg[:sp])
	addr := msg[sp+1:]
	if !okSlot || slot < 0 || slot >= SlotCount || bytes.LastIndexByte(addr, ':') < 0 ||
		bytes.IndexByte(addr, ' ') >= 0 {
		return Redirect{}, false
	}
	r.Slot, r.Addr = int(slot), addr
	return r, true
}

// NodeAddr is one node in a CLUSTER SLOTS reply.
type NodeAddr struct {
	// Host is the preferred endpoint: an IP, a hostname, "" (unknown; use
	// the replying node's host) or "?" (unknown endpoint).
	Host string
	// Port is the client port.
	Port int
	// ID is the node ID, empty for servers older than 4.0.
	ID string
}

// SlotRange is one entry of a CLUSTER SLOTS reply.
type SlotRange struct {
	// Start and End are the first and last slots, inclusive.
	Start, End int
	// Nodes are the master first, then its replicas.
	Nodes []NodeAddr
}

// ParseClusterSlots converts a decoded CLUSTER SLOTS reply. It allocates;
// it is for the control path.
func ParseClusterSlots(v Value) ([]SlotRange, error) {
	if v.IsError() {
		return nil, fmt.Errorf("redis: CLUSTER SLOTS: %s", v.Str)
	}
	if v.Type != '*' {
		return nil, errors.New("redis: CLUSTER SLOTS: reply is not an array")
	}
	out := make([]SlotRange, 0, len(v.Elems))
	for i, e := range v.Elems {
		if e.Type != '*' || len(e.Elems) < 3 {
			return nil, fmt.Errorf("redis: CLUSTER SLOTS: entry %d: want [start end master ...]", i)
		}
		start, ok1 := e.Elems[0].Integer()
		end, ok2 := e.Elems[1].Integer()
		if !ok1 || !ok2 || start < 0 || end < start || end >= SlotCount {
			return nil, fmt.Errorf("redis: CLUSTER SLOTS: entry %d: bad slot range", i)
		}
		r := SlotRange{Start: int(start), End: int(end), Nodes: make([]NodeAddr, 0, len(e.Elems)-2)}
		for j, n := range e.Elems[2:] {
			node, err := parseNode(n)
			if err != nil {
				return nil, fmt.Errorf("redis: CLUSTER SLOTS: entry %d node %d: %w", i, j, err)
			}
			r.Nodes = append(r.Nodes, node)
		}
		out = append(out, r)
	}
	return out, nil
}

// parseNode reads [host, port, id?, metadata?].
func parseNode(v Value) (NodeAddr, error) {
	if v.Type != '*' || len(v.Elems) < 2 {
		return NodeAddr{}, errors.New("want [host port ...]")
	}
	h, p := v.Elems[0], v.Elems[1]
	if h.Type != '$' && h.Type != '+' {
		return NodeAddr{}, errors.New("host is not a string")
	}
	port, ok := p.Integer()
	if !ok || port < 0 || port > 65535 {
		return NodeAddr{}, errors.New("bad port")
	}
	n := NodeAddr{Host: string(h.Str), Port: int(port)}
	if len(v.Elems) > 2 && (v.Elems[2].Type == '$' || v.Elems[2].Type == '+') {
		n.ID = string(v.Elems[2].Str)
	}
	return n, nil
}
