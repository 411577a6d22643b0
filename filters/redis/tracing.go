package redis

import (
	"bytes"

	"github.com/sluice-proxy/sluice/codec/redis"
	"github.com/sluice-proxy/sluice/tracing"
)

// startSpan begins a command's span (config `tracing`: sluice's, off by
// default): named by the command in upper case, a new trace per command
// sampled at tracing.sample; a command split across shards (MGET, MSET,
// DEL of several keys) is one span, ended with the merged reply; a
// command answered locally (an error) ends its span failed. Commands
// streamed for their size are not traced yet. Arguments are never
// recorded (they carry values).
func (p *Proxy) startSpan(cmd redis.Command) *tracing.StatementSpan {
	if p.spans == nil || len(cmd.Args) == 0 {
		return nil
	}
	return p.spans.Start(string(bytes.ToUpper(cmd.Args[0])), "")
}
