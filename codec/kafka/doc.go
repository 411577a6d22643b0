// Package kafka is sluice's Kafka wire codec: streaming framers for both
// directions of a client-broker connection, request and response header
// decoding, Envoy's stat names per API key, broker-address rewriting of
// Metadata, FindCoordinator and DescribeCluster responses, and synthesized
// error responses for refused requests.
//
// The package is pure: functions over bytes and io.Writer-shaped framers, no
// sockets, no stats, no config files. A framer walks a frame of any size
// (up to Limits.MaxFrameSize) holding only its header, unless the caller asks
// for the whole body of a frame it wants to rewrite, up to
// Limits.MaxCaptureSize.
//
// # Why kmsg
//
// Message bodies are encoded and decoded with franz-go's
// github.com/twmb/franz-go/pkg/kmsg rather than
// github.com/segmentio/kafka-go/protocol:
//
//   - Coverage: kmsg is generated from Kafka's own JSON message definitions
//     and knows every API key up to 94 (including DescribeCluster, key 60,
//     which sluice must rewrite) at current maximum versions (Metadata v13,
//     FindCoordinator v6). kafka-go/protocol (v0.4.51) stops at key 51 and
//     at older versions: its Metadata ends at v8, the last version before
//     flexible encoding, so it cannot decode a Metadata response of a
//     current client at all.
//   - Flexible versions: every kmsg message reports IsFlexible per version and
//     keeps unknown tagged fields (UnknownTags) through a decode/encode round
//     trip, so a rewritten response loses nothing the broker sent.
//     kafka-go's reflection codec covers tagged fields for some messages only.
//   - Symmetry: kmsg encodes and decodes both requests and responses of every
//     API, which the error synthesizer and the future kafka_mesh terminal
//     need; kafka-go/protocol is client-shaped (it encodes requests and
//     decodes responses for the APIs its client uses).
//
// kmsg deliberately leaves the header to the caller (its RequestFormatter
// writes request headers only), so the header rules live here, in
// header.go: request header v0 for ControlledShutdown v0, v1 for other
// non-flexible versions, v2 (tagged fields) for flexible versions; response
// header v1 (tagged fields) for flexible versions except ApiVersions, whose
// response header is always v0 so that a client can parse it before it knows
// what the broker supports.
//
// Hand-written parts, and why: the header decoder and the framers are written
// by hand because neither library offers a streaming framer (both read a
// whole frame into memory before decoding it), and the header must be decoded
// from a bounded prefix of a frame that may be 100 MiB. ApiName follows
// Envoy's stat names, which are Kafka's message names in snake case; kmsg's
// names spell acronyms differently (SASLHandshake, InitProducerID), so the
// table is written out.
package kafka
