// Package muxpool is a pool of multiplexed request/reply connections to the
// hosts of one cluster, for protocols whose replies carry the id of their
// request (Thrift's sequence id). Each request gets an id unique on the
// upstream connection it is sent on (the caller encodes it in), so the
// requests of many downstream connections share few upstream connections
// and their replies are matched back by id, in whatever order they come.
//
// Envoy's thrift_proxy takes one pooled connection per request in flight;
// sharing connections is what sluice adds: at most MaxConnsPerHost per host,
// a new one opened only while every open one carries MaxPerConn requests.
//
// Connections go through cluster.Cluster.Dial, so upstream_cx_* stats,
// max_connections and connect-failure outlier reports are the cluster's.
// max_requests (the Requests breaker) bounds requests in flight. A host that
// turns unhealthy or leaves has its connections drained: no new requests,
// closed once their last reply is in. Close ends every connection.
package muxpool
