// Package router is the match vocabulary every filter that routes shares:
// Envoy's StringMatcher (exact, prefix, suffix, contains, safe_regex,
// ignore_case), compiled once per config into a value whose Match allocates
// nothing, and server-name matching with Envoy's wildcards. rbac's
// principals and permissions, postgres_proxy's routes and the listener's
// filter-chain match use it; HTTP routes, redis prefix routes and kafka topic
// routes are to build on it.
//
// Hand-written: the rules are Envoy's (envoy.type.matcher.v3.StringMatcher,
// server_names), a few dozen lines, and a library matcher would allocate per
// call for ignore_case or bring its own config shape.
package router
