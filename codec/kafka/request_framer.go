package kafka

import "fmt"

// RequestFrame describes one request frame as the RequestFramer walks it.
// The framer reuses it: it is valid until the handler call returns.
type RequestFrame struct {
	// Offset is the stream offset of the frame's 4-byte size field; the
	// frame ends at Offset+4+Size.
	Offset int64
	// Size is the frame's body size, header included, size field excluded.
	Size int32
	// Header is the decoded header; with a non-nil Err it may be partial.
	Header RequestHeader
	// HeaderLen is the header's length within the body.
	HeaderLen int
	// Acks is a Produce request's acks field (-1, 0 or 1); 0 means the
	// broker will not respond. It is 1 for every other API.
	Acks int16
	// Err is nil, or a per-frame error: ErrTruncatedHeader,
	// ErrHeaderTooLarge or ErrMalformed (the header could not be decoded),
	// or ErrCaptureTooLarge (the header is valid, the body was not
	// captured).
	Err error
}

// ExpectsResponse reports whether the broker will answer this request:
// false for Produce with acks=0.
func (f *RequestFrame) ExpectsResponse() bool { return f.Acks != 0 }

// RequestHandler receives request frames from a RequestFramer, in stream
// order, on the goroutine that calls Write. Implementations must not retain
// the frame or body after returning.
type RequestHandler interface {
	// RequestHeader is called when a frame's header has been decoded, before
	// the rest of its body has been seen. It returns true to receive the
	// whole body in Request (up to Limits.MaxCaptureSize).
	RequestHeader(f *RequestFrame) (capture bool)
	// Request is called at the end of every frame, including frames whose
	// header failed (f.Err set, RequestHeader not called). body is the
	// whole frame after the size field when captured, nil otherwise.
	Request(f *RequestFrame, body []byte)
}

// RequestFramer frames the client-to-broker byte stream. It is an
// io.Writer: feed it the stream in chunks of any size. It is not safe for
// concurrent use.
type RequestFramer struct {
	framer
	h        RequestHandler
	frame    RequestFrame
	clientID []byte // owned copy of the current header's client id
}

// NewRequestFramer returns a framer that reports frames to h.
func NewRequestFramer(lim Limits, h RequestHandler) *RequestFramer {
	return &RequestFramer{framer: framer{lim: lim.withDefaults()}, h: h}
}

// Write consumes p. It returns len(p) and nil unless a frame size is
// invalid: then it returns an error wrapping ErrInvalidSize, now and on
// every later call, and the connection should be closed.
func (r *RequestFramer) Write(p []byte) (int, error) {
	n, err := r.write(p, r)
	if err != nil {
		return n, fmt.Errorf("kafka request stream: %w", err)
	}
	return n, nil
}

// Offset returns the number of stream bytes consumed so far.
func (r *RequestFramer) Offset() int64 { return r.off }

func (r *RequestFramer) begin() {
	r.frame = RequestFrame{Offset: r.start, Size: r.size, Acks: 1}
}

func (r *RequestFramer) parse(b []byte) error {
	h, n, err := decodeRequestHeader(b)
	r.frame.Header = h
	if err != nil {
		return err
	}
	if h.APIKey == KeyProduce {
		acks, _, err := produceAcks(b[n:], h.APIVersion)
		if err != nil {
			return err
		}
		r.frame.Acks = acks
	}
	r.clientID = append(r.clientID[:0], h.ClientID...)
	if h.ClientID != nil {
		r.frame.Header.ClientID = r.clientID
	}
	r.frame.HeaderLen = n
	return nil
}

func (r *RequestFramer) header() bool { return r.h.RequestHeader(&r.frame) }

func (r *RequestFramer) done(body []byte, err error) {
	r.frame.Err = err
	if err != nil && r.frame.HeaderLen == 0 {
		r.frame.Header.ClientID = nil // may alias a chunk that is gone
	}
	r.h.Request(&r.frame, body)
}
