package kafka

import "fmt"

// ResponseFrame describes one response frame as the ResponseFramer walks it.
// The framer reuses it: it is valid until the handler call returns.
type ResponseFrame struct {
	// Offset is the stream offset of the frame's 4-byte size field.
	Offset int64
	// Size is the frame's body size, header included, size field excluded.
	Size int32
	// CorrelationID is the response's correlation id.
	CorrelationID int32
	// APIKey and APIVersion are those given to Expect for CorrelationID;
	// both are -1 when the id was not expected.
	APIKey, APIVersion int16
	// Stamp is the opaque value given to Expect (a request time, say).
	Stamp int64
	// HeaderLen is the header's length within the body; the response body
	// proper (what kmsg decodes) starts there.
	HeaderLen int
	// Err is nil, or a per-frame error: ErrUnknownCorrelationID (the
	// header was decoded as v0 and the frame skipped), ErrTruncatedHeader,
	// ErrHeaderTooLarge, ErrMalformed, or ErrCaptureTooLarge.
	Err error
}

// Matched reports whether the response answered an expected request.
func (f *ResponseFrame) Matched() bool { return f.APIKey >= 0 }

// ResponseHandler receives response frames from a ResponseFramer, in stream
// order, on the goroutine that calls Write. Implementations must not retain
// the frame or body after returning.
type ResponseHandler interface {
	// ResponseHeader is called when a frame's header has been decoded and
	// matched to an expected request. It returns true to receive the whole
	// body in Response (up to Limits.MaxCaptureSize).
	ResponseHeader(f *ResponseFrame) (capture bool)
	// Response is called at the end of every frame, including failed and
	// unmatched ones. body is the whole frame after the size field when
	// captured, nil otherwise.
	Response(f *ResponseFrame, body []byte)
}

// ResponseFramer frames the broker-to-client byte stream. Responses carry
// only a correlation id, so the caller registers each request it saw with
// Expect; the framer then knows the API key and version, and with them the
// header version, of each response. It is an io.Writer and is not safe for
// concurrent use: Expect and Write must be called from one goroutine, or
// under the caller's lock.
type ResponseFramer struct {
	framer
	h        ResponseHandler
	frame    ResponseFrame
	inflight inFlight
	looked   bool // the current frame's correlation id was looked up
}

// NewResponseFramer returns a framer that reports frames to h.
func NewResponseFramer(lim Limits, h ResponseHandler) *ResponseFramer {
	lim = lim.withDefaults()
	return &ResponseFramer{
		framer:   framer{lim: lim},
		h:        h,
		inflight: inFlight{max: lim.MaxInFlight},
	}
}

// Expect registers a request awaiting its response. stamp is returned on
// the response's frame. It fails with ErrTooManyInFlight when
// Limits.MaxInFlight requests are pending, and with
// ErrDuplicateCorrelationID when id is already pending. Do not register a
// request that gets no response (Produce with acks=0).
func (r *ResponseFramer) Expect(correlationID int32, apiKey, apiVersion int16, stamp int64) error {
	return r.inflight.add(correlationID, pending{key: apiKey, version: apiVersion, stamp: stamp})
}

// InFlight returns the number of requests awaiting responses.
func (r *ResponseFramer) InFlight() int { return len(r.inflight.m) }

// Write consumes p. It returns len(p) and nil unless a frame size is
// invalid: then it returns an error wrapping ErrInvalidSize, now and on
// every later call, and the connection should be closed.
func (r *ResponseFramer) Write(p []byte) (int, error) {
	n, err := r.write(p, r)
	if err != nil {
		return n, fmt.Errorf("kafka response stream: %w", err)
	}
	return n, nil
}

// Offset returns the number of stream bytes consumed so far.
func (r *ResponseFramer) Offset() int64 { return r.off }

func (r *ResponseFramer) begin() {
	r.frame = ResponseFrame{Offset: r.start, Size: r.size, APIKey: -1, APIVersion: -1}
	r.looked = false
}

func (r *ResponseFramer) parse(b []byte) error {
	f := &r.frame
	if !r.looked {
		// The correlation id decides the header version, so look it up
		// once, then keep it while the rest of a split header arrives.
		id, _, err := decodeResponseHeader(b, 0)
		if err != nil {
			return err
		}
		f.CorrelationID = id
		r.looked = true
		if p, ok := r.inflight.take(id); ok {
			f.APIKey, f.APIVersion, f.Stamp = p.key, p.version, p.stamp
		}
	}
	hv := int8(0)
	if f.APIKey >= 0 {
		hv = ResponseHeaderVersion(f.APIKey, f.APIVersion)
	}
	_, n, err := decodeResponseHeader(b, hv)
	if err != nil {
		return err
	}
	f.HeaderLen = n
	if f.APIKey < 0 {
		f.Err = fmt.Errorf("%w: %d", ErrUnknownCorrelationID, f.CorrelationID)
	}
	return nil
}

func (r *ResponseFramer) header() bool {
	if r.frame.Err != nil {
		return false
	}
	return r.h.ResponseHeader(&r.frame)
}

func (r *ResponseFramer) done(body []byte, err error) {
	if err != nil && r.frame.Err == nil {
		r.frame.Err = err
	}
	r.h.Response(&r.frame, body)
}
