package thrift

import (
	"bytes"
	"context"
	"testing"

	athrift "github.com/apache/thrift/lib/go/thrift"

	"github.com/sluice-proxy/sluice/internal/thrifttest/calc"
)

// combos are the transport x protocol pairs the library's own clients write.
var combos = []struct {
	t Transport
	p Protocol
}{
	{TransportFramed, ProtocolBinary}, {TransportFramed, ProtocolCompact}, {TransportFramed, ProtocolLaxBinary},
	{TransportUnframed, ProtocolBinary}, {TransportUnframed, ProtocolCompact}, {TransportUnframed, ProtocolLaxBinary},
	{TransportHeader, ProtocolBinary}, {TransportHeader, ProtocolCompact},
}

// libWrite writes one message the way apache/thrift's client stack does,
// through the library's transports and protocols (not sluice's encoder).
func libWrite(t testing.TB, tr Transport, p Protocol, name string, typ athrift.TMessageType, seq int32, body athrift.TStruct, headers map[string]string) []byte {
	t.Helper()
	mem := athrift.NewTMemoryBuffer()
	strict := p != ProtocolLaxBinary
	cfg := &athrift.TConfiguration{TBinaryStrictWrite: &strict, TBinaryStrictRead: &strict}
	var trans athrift.TTransport = mem
	var pr athrift.TProtocol
	switch tr {
	case TransportFramed:
		trans = athrift.NewTFramedTransportConf(mem, cfg)
	case TransportHeader:
		id := athrift.THeaderProtocolBinary
		if p == ProtocolCompact {
			id = athrift.THeaderProtocolCompact
		}
		cfg.THeaderProtocolID = &id
		ht := athrift.NewTHeaderTransportConf(mem, cfg)
		for k, v := range headers {
			ht.SetWriteHeader(k, v)
		}
		trans = ht
	}
	if p == ProtocolCompact {
		pr = athrift.NewTCompactProtocolConf(trans, cfg)
	} else {
		pr = athrift.NewTBinaryProtocolConf(trans, cfg)
	}
	ctx := context.Background()
	if err := pr.WriteMessageBegin(ctx, name, typ, seq); err != nil {
		t.Fatal(err)
	}
	if err := body.Write(ctx, pr); err != nil {
		t.Fatal(err)
	}
	if err := pr.WriteMessageEnd(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(mem.Bytes())
}

// libRead decodes one message with the library, into body.
func libRead(t testing.TB, b []byte, tr Transport, p Protocol, body athrift.TStruct) (string, athrift.TMessageType, int32, map[string]string) {
	t.Helper()
	mem := &athrift.TMemoryBuffer{Buffer: bytes.NewBuffer(b)}
	strict := false
	cfg := &athrift.TConfiguration{TBinaryStrictRead: &strict}
	var trans athrift.TTransport = mem
	var ht *athrift.THeaderTransport
	switch tr {
	case TransportFramed:
		trans = athrift.NewTFramedTransportConf(mem, cfg)
	case TransportHeader:
		ht = athrift.NewTHeaderTransportConf(mem, cfg)
		trans = ht
	}
	var pr athrift.TProtocol
	if p == ProtocolCompact {
		pr = athrift.NewTCompactProtocolConf(trans, cfg)
	} else {
		pr = athrift.NewTBinaryProtocolConf(trans, cfg)
	}
	if ht != nil {
		pr = athrift.NewTHeaderProtocolConf(ht, cfg)
	}
	ctx := context.Background()
	name, typ, seq, err := pr.ReadMessageBegin(ctx)
	if err != nil {
		t.Fatalf("library read: %v", err)
	}
	if err := body.Read(ctx, pr); err != nil {
		t.Fatalf("library read body: %v", err)
	}
	if err := pr.ReadMessageEnd(ctx); err != nil {
		t.Fatal(err)
	}
	var h map[string]string
	if ht != nil {
		h = ht.GetReadHeaders()
	}
	return name, typ, seq, h
}

func describeArgs() *calc.CalcDescribeArgs {
	return &calc.CalcDescribeArgs{It: &calc.Item{
		Name:   "widget",
		Values: []int64{1, -2, 1 << 40},
		Attrs:  map[string]float64{"w": 1.5, "h": -3},
		Blob:   []byte{0, 1, 2, 0xff},
	}}
}
