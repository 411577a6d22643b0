package thrift

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	athrift "github.com/apache/thrift/lib/go/thrift"
)

// Decoder reads Thrift messages from a stream. An auto transport or protocol
// is detected on the first message and kept for the connection, as Envoy
// does. Not safe for concurrent use.
type Decoder struct {
	r         *bufio.Reader
	transport Transport
	protocol  Protocol
	max       int
	cfg       *athrift.TConfiguration
}

// NewDecoder reads from r with the given transport and protocol (either may
// be auto). max bounds a frame or message in bytes; larger ones fail with
// ErrTooLarge before their body is read.
func NewDecoder(r *bufio.Reader, t Transport, p Protocol, max int) *Decoder {
	return &Decoder{r: r, transport: t, protocol: p, max: max, cfg: conf(max)}
}

// Transport is the transport in use (auto until the first message).
func (d *Decoder) Transport() Transport { return d.transport }

// Protocol is the protocol in use (auto until the first message).
func (d *Decoder) Protocol() Protocol { return d.protocol }

// Next reads the next message. It returns io.EOF when the stream ends
// between messages, io.ErrUnexpectedEOF inside one, ErrTooLarge,
// ErrMalformed or ErrUnsupported (wrapped) for bad input; after an error the
// stream cannot be resynchronized.
func (d *Decoder) Next() (*Message, error) {
	if d.transport == TransportAuto {
		b, err := d.r.Peek(detectLen)
		if err != nil {
			return nil, eof(err, len(b))
		}
		if d.transport, err = DetectTransport(b); err != nil {
			return nil, err
		}
	}
	m := &Message{Transport: d.transport}
	var payload []byte
	var err error
	switch d.transport {
	case TransportFramed, TransportHeader:
		payload, err = d.readFrame(m)
	case TransportUnframed:
		payload, err = d.readUnframed(m)
	default:
		return nil, fmt.Errorf("%w: transport %s", ErrUnsupported, d.transport)
	}
	if err != nil {
		return nil, err
	}
	if m.Protocol == ProtocolAuto {
		m.Protocol = d.protocol
	}
	if m.Protocol == ProtocolAuto {
		if m.Protocol, err = DetectProtocol(payload); err != nil {
			return nil, err
		}
	}
	if d.protocol == ProtocolAuto && m.Transport != TransportHeader {
		d.protocol = m.Protocol
	}
	off, err := readBegin(m, payload, d.cfg)
	if err != nil {
		return nil, err
	}
	m.Body = payload[off:]
	return m, nil
}

// eof maps a read error to io.EOF at a message boundary (nothing read) and
// io.ErrUnexpectedEOF inside a message.
func eof(err error, got int) error {
	if errors.Is(err, io.EOF) {
		if got == 0 {
			return io.EOF
		}
		return io.ErrUnexpectedEOF
	}
	return err
}

// readFrame reads a length-prefixed frame; a header frame is unwrapped by
// the library's THeaderTransport.
func (d *Decoder) readFrame(m *Message) ([]byte, error) {
	hdr, err := d.r.Peek(4)
	if err != nil {
		return nil, eof(err, len(hdr))
	}
	size := int64(int32(binary.BigEndian.Uint32(hdr)))
	if size <= 0 {
		return nil, fmt.Errorf("%w: frame size %d", ErrMalformed, size)
	}
	if d.max > 0 && size > int64(d.max) {
		return nil, fmt.Errorf("%w: frame of %d bytes, limit %d", ErrTooLarge, size, d.max)
	}
	frame := make([]byte, 4+size)
	if n, err := io.ReadFull(d.r, frame); err != nil {
		return nil, eof(err, n)
	}
	m.Size = len(frame)
	if m.Transport == TransportFramed {
		return frame[4:], nil
	}
	return d.unwrapHeader(m, frame)
}

// unwrapHeader parses a THeader frame (length prefix included).
func (d *Decoder) unwrapHeader(m *Message, frame []byte) ([]byte, error) {
	if len(frame) < 6 || binary.BigEndian.Uint16(frame[4:]) != headerMagic {
		return nil, fmt.Errorf("%w: not a header frame", ErrMalformed)
	}
	if err := checkHeaderCounts(frame[4:]); err != nil {
		return nil, err
	}
	mem := &athrift.TMemoryBuffer{Buffer: bytes.NewBuffer(frame)}
	ht := athrift.NewTHeaderTransportConf(mem, d.cfg)
	if err := ht.ReadFrame(context.Background()); err != nil {
		return nil, fmt.Errorf("%w: header frame: %v", ErrMalformed, err)
	}
	switch ht.Protocol() {
	case athrift.THeaderProtocolBinary:
		m.Protocol = ProtocolBinary
	case athrift.THeaderProtocolCompact:
		m.Protocol = ProtocolCompact
	default:
		return nil, fmt.Errorf("%w: header protocol id %d", ErrUnsupported, ht.Protocol())
	}
	if h := ht.GetReadHeaders(); len(h) > 0 {
		m.Headers = map[string]string(h)
	}
	payload, err := io.ReadAll(io.LimitReader(ht, int64(d.max)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: header payload: %v", ErrMalformed, err)
	}
	if d.max > 0 && len(payload) > d.max { // a zlib transform may inflate
		return nil, fmt.Errorf("%w: header payload above %d", ErrTooLarge, d.max)
	}
	return payload, nil
}

// readUnframed records one message while the library skips over it.
func (d *Decoder) readUnframed(m *Message) ([]byte, error) {
	p := d.protocol
	if p == ProtocolAuto {
		b, err := d.r.Peek(4)
		if err != nil {
			return nil, eof(err, len(b))
		}
		if p, err = DetectProtocol(b); err != nil {
			return nil, err
		}
	}
	m.Protocol = p
	rec := &recorder{r: d.r, max: d.max}
	pr, err := newProtocol(p, rec, d.cfg)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	if _, _, _, err = pr.ReadMessageBegin(ctx); err == nil {
		err = athrift.SkipDefaultDepth(ctx, pr, athrift.STRUCT)
	}
	if err == nil {
		err = pr.ReadMessageEnd(ctx)
	}
	if err != nil {
		switch {
		case rec.tooLarge || isSizeLimit(err):
			return nil, fmt.Errorf("%w: unframed message above %d bytes", ErrTooLarge, d.max)
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return nil, eof(io.EOF, len(rec.buf))
		}
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	m.Size = len(rec.buf)
	return rec.buf, nil
}

// isSizeLimit says whether the library refused a length above the bound.
func isSizeLimit(err error) bool {
	var pe athrift.TProtocolException
	return errors.As(err, &pe) && pe.TypeId() == athrift.SIZE_LIMIT
}

// checkHeaderCounts refuses a THeader frame whose transform count exceeds
// its header section before the library sees it: apache/thrift v0.22's
// THeaderTransport allocates that many entries from the wire, so a 52-byte
// frame asked it for gigabytes (found by FuzzDecoder). frame starts after
// the length prefix: magic and flags (4), sequence id (4), header length in
// words (2), then the header: protocol id and transform count as varints.
func checkHeaderCounts(frame []byte) error {
	if len(frame) < 10 {
		return fmt.Errorf("%w: header frame of %d bytes", ErrMalformed, len(frame))
	}
	hdr := frame[10:]
	if n := int(binary.BigEndian.Uint16(frame[8:])) * 4; n < len(hdr) {
		hdr = hdr[:n]
	}
	_, n := binary.Uvarint(hdr) // protocol id
	if n <= 0 {
		return fmt.Errorf("%w: header protocol id", ErrMalformed)
	}
	count, m := binary.Uvarint(hdr[n:])
	if m <= 0 || count > uint64(len(hdr)-n-m) {
		return fmt.Errorf("%w: header transform count", ErrMalformed)
	}
	return nil
}
