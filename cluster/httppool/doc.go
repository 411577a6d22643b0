// Package httppool holds sluice's upstream HTTP connection pools: one Pool
// per cluster, shared by every listener, filter and goroutine of the
// process, whose RoundTrip sends a request to a host chosen by the
// cluster's load balancer over a pooled HTTP/1.1 or HTTP/2 connection.
//
// # Which client speaks HTTP
//
// HTTP/2 connections (and HTTP/1.1 over Options.TLS) are
// *net/http.ClientConn (Go 1.26's Transport.NewClientConn): the standard
// library's client, which golang.org/x/net/http2 itself now wraps, behind
// one API with the load figures a pool needs (Available, InFlight,
// Reserve, Err). HTTP/1.1 in plain text or over the cluster's own TLS is
// the pool's own connection (h1conn.go): the request is written and the
// response head read on the calling goroutine with codec/http1's strict
// reader, with no reader and writer goroutine per connection. net/http's
// persistConn hands every request and response between such a pair over
// channels; under wrk through sluice that machinery was a large share of
// the CPU, and its response parser is laxer than the one sluice applies
// to clients (see codec/http1). Both satisfy clientConn.
//
// The other hand-written part is what Go's Transport does not do and Envoy
// does differently: choosing the connection. net/http.Transport keeps one
// HTTP/2 connection per host and packs every stream on it (Envoy keeps
// about one per worker thread), which starves server processes sharing a
// port with SO_REUSEPORT: the kernel spreads connections, not streams. This
// pool keeps per host between http_pool.min_connections_per_host and
// max_connections_per_host HTTP/2 connections, opens another when no
// connection is below its share of outstanding streams (the cluster's
// http2_protocol_options.max_concurrent_streams, else
// http_pool.target_streams_per_connection, default 1) and keeps spare ones
// ahead of the streams (preconnect_policy.per_upstream_preconnect_ratio,
// default 2 here, 1 in Envoy). A new stream goes on the connection with
// the fewest outstanding streams and, among equals, the one whose recent
// requests finished fastest (a moving average that decays while the
// connection is left alone), so a connection to a busy process gets fewer
// new streams. HTTP/1.1 connections carry one request each and are reused
// while keep-alive holds.
//
// Connections are dialed with (*cluster.Cluster).Dial, so connect_timeout,
// upstream_cx_* stats and the max_connections breaker apply; requests wait
// for a connection under max_pending_requests and run under max_requests
// (both count upstream_rq_pending_overflow, as in Envoy). Connections close
// after common_http_protocol_options.idle_timeout (HTTP/2: only above the
// minimum), max_requests_per_connection and max_connection_duration, when
// their host turns unhealthy or leaves the cluster, and when a reload
// removes the cluster (Cluster.Retired).
//
// # Stats the pool counts
//
// Under cluster.<name>.: upstream_rq_total and upstream_rq_active (through
// Host.BeginRequest), upstream_rq_pending_total, upstream_rq_pending_active,
// upstream_rq_completed, upstream_rq_<code>, upstream_rq_<n>xx,
// upstream_rq_time, upstream_rq_timeout, upstream_rq_rx_reset,
// upstream_rq_tx_reset, upstream_cx_http1_total, upstream_cx_http2_total,
// upstream_cx_max_requests, upstream_cx_idle_timeout,
// upstream_cx_max_duration_reached. An HTTP filter using the pool must not
// count these again (it counts upstream_rq_retry and the downstream_* ones).
// Each request's outcome reaches outlier detection: 5xx answers as upstream
// errors, resets and timeouts as local-origin failures.
//
// # Errors RoundTrip returns
//
// errors.Is(err, cluster.ErrNoHealthyHost) (no host: Envoy's 503 UH),
// cluster.ErrOverflow (a breaker: 503 UO), context.DeadlineExceeded (the
// request's deadline: 504 UT); anything else is a connect failure or reset
// (503 UF/UR). Requests the server never processed (a GOAWAY beyond their
// stream, REFUSED_STREAM, a connection lost before the body was read) are
// sent again on another connection, up to three times; an idle HTTP/1.1
// connection found closed by its server (a recv(MSG_PEEK) before a request
// that could not be sent again, or EOF on a bodiless idempotent one) does
// not count as an attempt.
//
// The caller strips hop-by-hop headers; RoundTrip accepts a server request
// as is (RequestURI set, no URL host) and does not change its headers.
package httppool
