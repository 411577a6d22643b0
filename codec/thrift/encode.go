package thrift

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"

	athrift "github.com/apache/thrift/lib/go/thrift"
)

// Target is what a message is re-encoded to.
type Target struct {
	Transport Transport
	Protocol  Protocol
	// Headers go in a header transport's envelope (ignored otherwise).
	Headers map[string]string
}

// Resolve fills an auto transport or protocol of t from the message's own,
// so that "auto" upstream means "as the client spoke".
func (t Target) Resolve(m *Message) Target {
	if t.Transport == TransportAuto {
		t.Transport = m.Transport
	}
	if t.Protocol == ProtocolAuto {
		t.Protocol = m.Protocol
	}
	if t.Transport == TransportHeader && t.Protocol == ProtocolLaxBinary {
		t.Protocol = ProtocolBinary // THeader carries binary or compact
	}
	return t
}

// Encode appends m to dst in target t (resolved against m) with the given
// name and sequence id. The body passes through as bytes when the protocol
// stays the same, and is translated field by field otherwise.
func Encode(dst []byte, m *Message, t Target, name string, seq int32) ([]byte, error) {
	t = t.Resolve(m)
	if t.Protocol == ProtocolTwitter || t.Transport == TransportAuto {
		return dst, fmt.Errorf("%w: encode to %s/%s", ErrUnsupported, t.Transport, t.Protocol)
	}
	w := &sliceWriter{}
	pw, err := newProtocol(t.Protocol, w, confAny)
	if err != nil {
		return dst, err
	}
	ctx := context.Background()
	if err := pw.WriteMessageBegin(ctx, name, athrift.TMessageType(m.Type), seq); err != nil {
		return dst, err
	}
	if t.Protocol == m.Protocol || (isBinaryFamily(t.Protocol) && isBinaryFamily(m.Protocol)) {
		_ = pw.Flush(ctx)
		w.b = append(w.b, m.Body...)
	} else {
		if err := translate(ctx, m, pw); err != nil {
			return dst, err
		}
		if err := pw.Flush(ctx); err != nil {
			return dst, err
		}
	}
	return wrap(dst, w.b, t, seq)
}

// isBinaryFamily: strict and lax binary share the body encoding.
func isBinaryFamily(p Protocol) bool { return p == ProtocolBinary || p == ProtocolLaxBinary }

// wrap puts a protocol payload into transport t.
func wrap(dst, payload []byte, t Target, seq int32) ([]byte, error) {
	switch t.Transport {
	case TransportUnframed:
		return append(dst, payload...), nil
	case TransportFramed:
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)))
		return append(dst, payload...), nil
	case TransportHeader:
		return wrapHeader(dst, payload, t, seq)
	}
	return dst, fmt.Errorf("%w: transport %s", ErrUnsupported, t.Transport)
}

// wrapHeader writes a THeader frame with the library's THeaderTransport.
func wrapHeader(dst, payload []byte, t Target, seq int32) ([]byte, error) {
	id := athrift.THeaderProtocolBinary
	if t.Protocol == ProtocolCompact {
		id = athrift.THeaderProtocolCompact
	}
	w := &sliceWriter{b: dst}
	ht := athrift.NewTHeaderTransportConf(w, &athrift.TConfiguration{THeaderProtocolID: &id})
	ht.SequenceID = seq
	keys := make([]string, 0, len(t.Headers))
	for k := range t.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ht.SetWriteHeader(k, t.Headers[k])
	}
	if _, err := ht.Write(payload); err != nil {
		return dst, err
	}
	if err := ht.Flush(context.Background()); err != nil {
		return dst, err
	}
	return w.b, nil
}

// AppException appends a TApplicationException reply to the call m, in the
// client's own transport and protocol, with m's name and sequence id.
func AppException(dst []byte, m *Message, kind int32, msg string) ([]byte, error) {
	t := Target{Transport: m.Transport, Protocol: m.Protocol}
	w := &sliceWriter{}
	pw, err := newProtocol(t.Protocol, w, confAny)
	if err != nil {
		return dst, err
	}
	ctx := context.Background()
	if err := pw.WriteMessageBegin(ctx, m.Name, athrift.EXCEPTION, m.SeqID); err != nil {
		return dst, err
	}
	if err := athrift.NewTApplicationException(kind, msg).Write(ctx, pw); err != nil {
		return dst, err
	}
	if err := pw.WriteMessageEnd(ctx); err != nil {
		return dst, err
	}
	if err := pw.Flush(ctx); err != nil {
		return dst, err
	}
	return wrap(dst, w.b, t, m.SeqID)
}

// TApplicationException kinds sluice answers with.
const (
	ExcUnknownMethod = athrift.UNKNOWN_METHOD
	ExcInternalError = athrift.INTERNAL_ERROR
)

// sliceWriter is a write-only TTransport appending to a slice.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }
func (w *sliceWriter) Read([]byte) (int, error)    { return 0, fmt.Errorf("thrift: write-only buffer") }
func (w *sliceWriter) Close() error                { return nil }
func (w *sliceWriter) Flush(context.Context) error { return nil }
func (w *sliceWriter) RemainingBytes() uint64      { return 0 }
func (w *sliceWriter) IsOpen() bool                { return true }
func (w *sliceWriter) Open() error                 { return nil }
