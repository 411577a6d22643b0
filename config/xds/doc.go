// Package xds is sluice's dynamic configuration: Envoy's xDS protocol over
// gRPC (ADS or one stream per type; State of the World or Delta) and
// Envoy's path_config_source files, for listeners (LDS), clusters (CDS) and
// endpoints (EDS), and over ADS route configurations (RDS, rds.go: inlined
// into the listener's http_connection_manager before translation).
//
// Resources received are kept as Envoy's protos, merged with the
// bootstrap's static resources into one Bootstrap and translated by the
// same loader as a file (config/envoy.FromBootstrap), so that a resource
// from a control plane is checked, refused and translated exactly as it
// would be in a file. The result is applied through the server: an update
// that leaves every listener as it runs only moves clusters and endpoints
// (proxy.Server.ApplyClusters); anything else goes through Apply, which
// diffs listeners and keeps their sockets.
//
// Envoy's warming order holds: an EDS cluster is used only once its
// ClusterLoadAssignment arrived (or its initial_fetch_timeout passed), and
// a listener only once every cluster it names is in use; until then the
// previous version of that listener, if any, keeps serving. An update that
// cannot be applied is refused as a whole (NACK, with every problem and its
// field path in error_detail) and the last good config keeps serving,
// also while the control plane is unreachable.
//
// The stream handling is written here rather than taken from
// go-control-plane's pkg/client/sotw, which speaks only ADS in State of the
// World and leaves subscriptions, warming and reconnects to its user; the
// protocol state per type (version, nonce, subscribed names) is small.
// go-control-plane's server and snapshot cache are what the tests run
// against.
package xds
