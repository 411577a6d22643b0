package thrift

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"

	athrift "github.com/apache/thrift/lib/go/thrift"
)

// conf is the library configuration for a max size: reads refuse strings
// and containers above it, binary reads are lax (they accept strict too).
func conf(max int) *athrift.TConfiguration {
	strict := false
	m := int32(math.MaxInt32)
	if max > 0 && max < math.MaxInt32 {
		m = int32(max)
	}
	return &athrift.TConfiguration{MaxMessageSize: m, MaxFrameSize: m, TBinaryStrictRead: &strict}
}

// confAny is conf(0), shared: TConfiguration is read-only once built.
var confAny = conf(0)

// newProtocol returns the library protocol p over t.
func newProtocol(p Protocol, t athrift.TTransport, c *athrift.TConfiguration) (athrift.TProtocol, error) {
	switch p {
	case ProtocolBinary:
		return athrift.NewTBinaryProtocolConf(t, c), nil
	case ProtocolLaxBinary:
		w := false
		cc := *c
		cc.TBinaryStrictWrite = &w
		return athrift.NewTBinaryProtocolConf(t, &cc), nil
	case ProtocolCompact:
		return athrift.NewTCompactProtocolConf(t, c), nil
	}
	return nil, fmt.Errorf("%w: protocol %s", ErrUnsupported, p)
}

// readBegin decodes the message begin at the start of payload and returns
// the offset of the body.
func readBegin(m *Message, payload []byte, c *athrift.TConfiguration) (int, error) {
	if m.Protocol == ProtocolBinary {
		if off, ok := readBinaryBegin(m, payload); ok {
			return off, nil
		}
	}
	mem := &athrift.TMemoryBuffer{Buffer: bytes.NewBuffer(payload)}
	pr, err := newProtocol(m.Protocol, mem, c)
	if err != nil {
		return 0, err
	}
	name, typ, seq, err := pr.ReadMessageBegin(context.Background())
	if err != nil {
		return 0, fmt.Errorf("%w: message begin: %v", ErrMalformed, err)
	}
	if typ < athrift.CALL || typ > athrift.ONEWAY {
		return 0, fmt.Errorf("%w: message type %d", ErrMalformed, typ)
	}
	m.Name, m.Type, m.SeqID = name, MessageType(typ), seq
	return len(payload) - mem.Len(), nil
}

// ReplyOutcome is what a reply says about the call, as Envoy counts it.
type ReplyOutcome uint8

const (
	// ReplySuccess: a reply whose result struct holds field 0 (or nothing:
	// a void method).
	ReplySuccess ReplyOutcome = iota + 1
	// ReplyError: a reply holding a declared exception (a field other than 0).
	ReplyError
	// ReplyException: a TApplicationException (message type exception).
	ReplyException
)

// Outcome classifies a reply or exception message by peeking at the first
// field of its body.
func (m *Message) Outcome() ReplyOutcome {
	if m.Type == Exception {
		return ReplyException
	}
	mem := &athrift.TMemoryBuffer{Buffer: bytes.NewBuffer(m.Body)}
	pr, err := newProtocol(m.Protocol, mem, confAny)
	if err != nil {
		return ReplyError
	}
	ctx := context.Background()
	if _, err := pr.ReadStructBegin(ctx); err != nil {
		return ReplyError
	}
	_, typ, id, err := pr.ReadFieldBegin(ctx)
	if err != nil {
		return ReplyError
	}
	if typ == athrift.STOP || id == 0 {
		return ReplySuccess
	}
	return ReplyError
}

// readBinaryBegin reads a strict binary message begin (version word with
// the type, name, sequence id) without the library: it is the header of
// nearly every call and reply, and the library's reader costs a protocol
// and a buffer per message (about 5% of the proxy's CPU, measured with
// pprof under bench/thrift.sh). Anything unusual is left to the library
// (ok false), which reports it.
func readBinaryBegin(m *Message, b []byte) (off int, ok bool) {
	if len(b) < 12 || !isBinary(b) {
		return 0, false
	}
	typ := MessageType(b[3])
	n := int(int32(binary.BigEndian.Uint32(b[4:])))
	if typ < Call || typ > Oneway || n < 0 || n > len(b)-12 {
		return 0, false
	}
	m.Name = string(b[8 : 8+n])
	m.Type = typ
	m.SeqID = int32(binary.BigEndian.Uint32(b[8+n:]))
	return 12 + n, true
}
