package thrift

import (
	"bufio"
	"bytes"
	"testing"

	athrift "github.com/apache/thrift/lib/go/thrift"

	"github.com/sluice-proxy/sluice/internal/thrifttest/calc"
)

// FuzzDecoder feeds arbitrary bytes to an auto decoder, seeded with calls
// and replies written by apache/thrift's own client stack in every
// transport and protocol. It must never panic or hold more than its bound,
// and whatever decodes must re-encode and decode again to the same header.
func FuzzDecoder(f *testing.F) {
	for _, c := range combos {
		f.Add(libWrite(f, c.t, c.p, "describe", athrift.CALL, 7, describeArgs(), map[string]string{"k": "v"}), uint8(c.p))
		f.Add(libWrite(f, c.t, c.p, "fail", athrift.REPLY, 8, &calc.CalcFailResult{Err: &calc.CalcError{Code: 2, Why: "no"}}, nil), uint8(c.p))
	}
	f.Fuzz(func(t *testing.T, in []byte, p uint8) {
		pr := Protocol(p % 4)
		d := NewDecoder(bufio.NewReader(bytes.NewReader(in)), TransportAuto, pr, 1<<16)
		for i := 0; i < 4; i++ {
			m, err := d.Next()
			if err != nil {
				return
			}
			if m.Size > 1<<16+4 {
				t.Fatalf("message of %d bytes above the bound", m.Size)
			}
			m.Outcome()
			out, err := Encode(nil, m, Target{Transport: TransportFramed, Protocol: ProtocolCompact}, m.Name, m.SeqID+1)
			if err != nil {
				continue // a body that does not translate is refused, not a crash
			}
			m2, err := NewDecoder(bufio.NewReader(bytes.NewReader(out)), TransportFramed, ProtocolCompact, 1<<20).Next()
			if err != nil || m2.Name != m.Name || m2.SeqID != m.SeqID+1 || m2.Type != m.Type {
				t.Fatalf("re-encoded %q: %+v %v", m.Name, m2, err)
			}
		}
	})
}
