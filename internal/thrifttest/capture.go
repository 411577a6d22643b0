package thrifttest

import (
	"bytes"
	"context"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/sluice-proxy/sluice/internal/thrifttest/calc"
)

// Capture returns the bytes the library's client writes in stack st for
// the calls fn makes (their replies never come: the client reads from an
// empty buffer, so each call returns an error after writing). Fuzz targets
// seed from it: real calls, as a client sends them.
func Capture(st Stack, service string, fn func(ctx context.Context, c *calc.CalcClient)) []byte {
	mem := thrift.NewTMemoryBuffer()
	tf, pf := st.Factories()
	trans, err := tf.GetTransport(mem)
	if err != nil {
		panic(err)
	}
	p := pf.GetProtocol(trans)
	var out thrift.TProtocol = p
	if service != "" {
		out = thrift.NewTMultiplexedProtocol(p, service)
	}
	fn(context.Background(), calc.NewCalcClient(thrift.NewTStandardClient(p, out)))
	return bytes.Clone(mem.Bytes())
}
