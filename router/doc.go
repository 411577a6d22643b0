// Package router is the match vocabulary every filter that routes shares,
// and the HTTP route tables built on it.
//
// The vocabulary: Envoy's StringMatcher (exact, prefix, suffix, contains,
// safe_regex, ignore_case), compiled once per config into a value whose
// Match allocates nothing, and server-name matching with Envoy's
// wildcards. rbac's principals and permissions, postgres_proxy's routes
// and the listener's filter-chain match use it; redis prefix routes and
// kafka topic routes are to build on it.
//
// The route tables: Compile turns a config.RouteConfiguration (Envoy's
// envoy.config.route.v3.RouteConfiguration) into an immutable Table.
// Table.Route picks the virtual host by domain (exact, then the longest
// "*suffix", then the longest "prefix*", then "*") and returns the first
// route whose match holds, as Envoy does; the *Route answers everything
// the connection manager and the router filter need (cluster, rewrites,
// redirect, direct response, timeouts, retry, mirror and hash policies,
// header mutations, per-filter config). Matching allocates nothing for
// the common requests (see Table.Route).
//
// Hand-written: the rules are Envoy's (StringMatcher, server_names,
// RouteMatch, VirtualHost domains); no Go router speaks them (httprouter,
// chi and gorilla/mux have their own pattern languages and precedence),
// and a library matcher would allocate per call for ignore_case or bring
// its own config shape. Hashing uses github.com/cespare/xxhash/v2, the
// xxHash64 Envoy uses, shared with cluster/lb.
package router
