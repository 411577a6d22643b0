package router

import "net/http"

// pathIndex finds a virtual host's first matching route without trying
// every route: Envoy scans routes in order, which costs microseconds in a
// table of a thousand. Routes whose path condition is a case-sensitive
// prefix, path or path_separated_prefix sit in a byte trie under that
// string; walking the request path down the trie meets exactly the routes
// whose string is a prefix of the path, the only ones of them that can
// match. The other routes (safe_regex, case-insensitive, a prefix reaching
// into the query) are always tried. Among the candidates the lowest index
// that matches wins, so the answer is the scan's; a route with a
// runtime_fraction may be sampled when the scan would have stopped before
// it, which changes no outcome's odds (each draw is independent).
type pathIndex struct {
	root   trieNode
	always []int32 // ascending
}

type trieNode struct {
	edges []trieEdge
	here  []int32 // routes whose string ends here, ascending
}

type trieEdge struct {
	b byte
	n *trieNode
}

// minIndexed is the table size from which an index beats the plain scan.
const minIndexed = 16

func buildIndex(routes []*Route) *pathIndex {
	if len(routes) < minIndexed {
		return nil
	}
	x := &pathIndex{}
	for i, r := range routes {
		if r.fold || r.kind == pathRegex || (r.kind == pathPrefix && r.queryAt >= 0) {
			x.always = append(x.always, int32(i))
			continue
		}
		n := &x.root
		for j := 0; j < len(r.path); j++ {
			n = n.child(r.path[j])
		}
		n.here = append(n.here, int32(i))
	}
	return x
}

func (n *trieNode) child(b byte) *trieNode {
	for _, e := range n.edges {
		if e.b == b {
			return e.n
		}
	}
	c := &trieNode{}
	n.edges = append(n.edges, trieEdge{b, c})
	return c
}

func (n *trieNode) next(b byte) *trieNode {
	for _, e := range n.edges {
		if e.b == b {
			return e.n
		}
	}
	return nil
}

// first returns the lowest-index route of routes that matches, or -1.
func (x *pathIndex) first(routes []*Route, req *http.Request, path string) int {
	best := int32(len(routes))
	try := func(list []int32) {
		for _, i := range list {
			if i >= best {
				return
			}
			if routes[i].matches(req, path) {
				best = i
				return
			}
		}
	}
	n := &x.root
	for d := 0; n != nil; d++ {
		try(n.here)
		if d == len(path) {
			break
		}
		n = n.next(path[d])
	}
	try(x.always)
	if int(best) == len(routes) {
		return -1
	}
	return int(best)
}
