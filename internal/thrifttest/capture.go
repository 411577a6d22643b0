package thrifttest

import (
	"bytes"
	"context"
	"io"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/sluice-proxy/sluice/internal/thrifttest/calc"
)

// Capture returns the bytes the library's client writes in stack st for
// the calls fn makes (their replies never come: reads end at once, so each
// call returns an error after writing). Fuzz targets and pool tests seed
// from it: real calls, as a client sends them.
func Capture(st Stack, service string, fn func(ctx context.Context, c *calc.CalcClient)) []byte {
	rec := &recorder{}
	tf, pf := st.Factories()
	trans, err := tf.GetTransport(rec)
	if err != nil {
		panic(err)
	}
	p := pf.GetProtocol(trans)
	var out thrift.TProtocol = p
	if service != "" {
		out = thrift.NewTMultiplexedProtocol(p, service)
	}
	fn(context.Background(), calc.NewCalcClient(thrift.NewTStandardClient(p, out)))
	return bytes.Clone(rec.buf.Bytes())
}

// recorder is a TTransport that keeps what is written and reads nothing.
type recorder struct{ buf bytes.Buffer }

func (r *recorder) Write(p []byte) (int, error) { return r.buf.Write(p) }
func (r *recorder) Read([]byte) (int, error)    { return 0, io.EOF }
func (r *recorder) Close() error                { return nil }
func (r *recorder) Flush(context.Context) error { return nil }
func (r *recorder) RemainingBytes() uint64      { return 0 }
func (r *recorder) IsOpen() bool                { return true }
func (r *recorder) Open() error                 { return nil }
