// Package redis is sluice's RESP codec: a pipelined request reader (RESP
// multibulk and inline commands, with redis-server's limits and error texts),
// a streaming reply framer for RESP2 and RESP3, a small reply decoder for the
// replies a proxy must interpret (MOVED/ASK, CLUSTER SLOTS, integers, arrays),
// append-style encoders, the command table, and Redis Cluster hash slots.
//
// The package is pure: functions over bytes and an io.Reader, no sockets, no
// stats, no config.
//
// Why hand-written rather than github.com/tidwall/redcon's Reader: redcon
// allocates per command (a copy of the raw command, a fresh Args slice, a
// marks slice and the result slice), re-parses a partial command from its
// start on every read, doubles its buffer without regard to a declared bulk
// length, enforces no bulk, multibulk or inline limits, and does not follow
// redis-server's inline splitting (mid-word quotes, \xHH escapes). The
// benchmark BenchmarkRequestRedcon next to BenchmarkRequestReader measures the
// difference on -P 16 GET/SET pipelines; see README.md for the numbers.
// CRC16 is hand-written because no maintained module exports the XMODEM
// variant (go-redis keeps its copy internal); it is a 256-entry table.
package redis
