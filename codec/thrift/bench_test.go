package thrift

import (
	"bufio"
	"bytes"
	"testing"

	athrift "github.com/apache/thrift/lib/go/thrift"
)

// BenchmarkDecodeEncode decodes a framed call and re-encodes it with a new
// sequence id: the codec work thrift_proxy does per call and per reply.
func BenchmarkDecodeEncode(b *testing.B) {
	for _, c := range []struct {
		name string
		t    Transport
		p    Protocol
		to   Target
	}{
		{"framed-binary", TransportFramed, ProtocolBinary, Target{}},
		{"header-compact", TransportHeader, ProtocolCompact, Target{}},
		{"binary-to-compact", TransportFramed, ProtocolBinary, Target{Transport: TransportFramed, Protocol: ProtocolCompact}},
	} {
		b.Run(c.name, func(b *testing.B) {
			one := libWrite(b, c.t, c.p, "describe", athrift.CALL, 1, describeArgs(), nil)
			in := bytes.Repeat(one, 64)
			r := bytes.NewReader(in)
			br := bufio.NewReaderSize(r, 64<<10)
			var out []byte
			b.SetBytes(int64(len(one)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%64 == 0 {
					r.Reset(in)
					br.Reset(r)
				}
				d := NewDecoder(br, c.t, c.p, 1<<20)
				m, err := d.Next()
				if err != nil {
					b.Fatal(err)
				}
				if out, err = Encode(out[:0], m, c.to, m.Name, int32(i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
