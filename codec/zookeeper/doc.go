// Package zookeeper decodes the ZooKeeper 3.5+ client protocol (jute
// records over length-prefixed frames) as an observer sees it: the client's
// requests and the server's responses and watch events, arriving in
// arbitrary chunks. It reports each frame as a Request or a Response; it
// never changes the bytes, except that ErrPatcher rewrites the error field
// of chosen responses in place (a gate's NOAUTH answer).
//
// Memory is bounded by Config.MaxPacketBytes (Envoy's max_packet_bytes,
// default 1 MiB, ZooKeeper's own jute.maxbuffer), which limits what is
// held: a request, a watch event or the connect response longer than it is
// an error. A request is parsed from the chunk it arrived in when it
// arrived whole and is copied only when split across chunks (at most one
// frame); of a reply only the 16-byte header is held and the rest is
// skipped as it passes, so a 1 MiB getData reply costs nothing to observe
// (and may be longer than the limit). Decoding allocates nothing: paths
// alias the frame, valid during the callback.
//
// Written by hand: github.com/go-zookeeper/zk, the Go client, has the
// record layouts but keeps them unexported (requestStructForOp,
// decodePacket) and decodes by reflection into freshly allocated structs
// over a whole frame read from its own socket; an observer needs
// incremental, bounds-checked decoding of both directions with no
// allocation (BenchmarkRequests: ~86 ns a getData, 0 allocations, on the
// shared 2-core machine under load; go-zookeeper's reflective
// decodePacket allocates a struct and its strings per record). The layouts follow
// ZooKeeper's zookeeper.jute (3.8) and the opcode names Envoy's
// zookeeper_proxy uses for its stats and metadata.
//
// A RequestDecoder or ResponseDecoder is not safe for concurrent use; use
// one per direction.
package zookeeper
