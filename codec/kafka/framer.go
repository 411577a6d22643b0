package kafka

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// frameHooks is what differs between the request and response framers.
type frameHooks interface {
	// begin is called when a frame's size has been read.
	begin()
	// parse decodes the header from b, the first bytes of a frame's body;
	// errNeedMore asks for more bytes.
	parse(b []byte) error
	// header is called once parse succeeded; it returns whether to capture
	// the whole body.
	header() bool
	// done is called at the end of every frame; body is nil unless
	// captured; err is the frame's error, if any.
	done(body []byte, err error)
}

type framerState uint8

const (
	stateSize framerState = iota
	stateHeader
	stateBody
)

// framer is the state machine both framers share: 4-byte big-endian size,
// then a header decoded from a bounded prefix, then the rest of the body,
// skipped or captured. Per frame it allocates nothing once its buffers have
// grown to the largest header and capture seen.
type framer struct {
	lim     Limits
	off     int64 // stream bytes consumed so far
	state   framerState
	sizeBuf [4]byte
	sizeN   int
	start   int64 // stream offset of the current frame's size field
	size    int32 // current frame's body size
	left    int32 // body bytes of the current frame not consumed yet
	prefix  []byte
	capture bool
	buf     []byte
	ferr    error // the current frame's error
	fatal   error
}

// write consumes p, calling h as frames are decoded. It returns the bytes
// consumed, which is len(p) unless the stream failed with ErrInvalidSize.
func (f *framer) write(p []byte, h frameHooks) (int, error) {
	if f.fatal != nil {
		return 0, f.fatal
	}
	total := len(p)
	for len(p) > 0 {
		switch f.state {
		case stateSize:
			k := copy(f.sizeBuf[f.sizeN:], p)
			f.sizeN += k
			f.consume(&p, k)
			if f.sizeN < 4 {
				continue
			}
			f.sizeN = 0
			size := int32(binary.BigEndian.Uint32(f.sizeBuf[:]))
			if size < 0 || size > f.lim.MaxFrameSize {
				f.fatal = fmt.Errorf("%w: %d at stream offset %d (max %d)",
					ErrInvalidSize, size, f.off-4, f.lim.MaxFrameSize)
				return total - len(p), f.fatal
			}
			f.begin(size)
			h.begin()
			if size == 0 {
				f.ferr = ErrTruncatedHeader
				f.finish(h)
			}
		case stateHeader:
			f.header(&p, h)
		case stateBody:
			n := min(len(p), int(f.left))
			if f.capture {
				f.buf = append(f.buf, p[:n]...)
			}
			f.consume(&p, n)
			if f.left == 0 {
				f.finish(h)
			}
		}
	}
	return total, nil
}

func (f *framer) consume(p *[]byte, n int) {
	*p = (*p)[n:]
	f.off += int64(n)
	if f.state != stateSize {
		f.left -= int32(n)
	}
}

func (f *framer) begin(size int32) {
	f.start, f.size, f.left = f.off-4, size, size
	f.prefix, f.buf = f.prefix[:0], f.buf[:0]
	f.capture, f.ferr = false, nil
	f.state = stateHeader
}

// header decodes the header straight from p when it is whole there (the
// common case, no copy), and otherwise gathers it in prefix across writes,
// up to MaxHeaderSize.
func (f *framer) header(p *[]byte, h frameHooks) {
	// Never look past MaxHeaderSize, so that the outcome does not depend
	// on how the stream was chunked.
	n := min(len(*p), int(f.left), f.lim.MaxHeaderSize-len(f.prefix))
	gathered := len(f.prefix) > 0
	src := (*p)[:n]
	if gathered {
		f.prefix = append(f.prefix, src...)
		f.consume(p, n)
		src = f.prefix
	}
	err := h.parse(src)
	if errors.Is(err, errNeedMore) {
		if !gathered {
			f.prefix = append(f.prefix[:0], src...)
			f.consume(p, n)
		}
		switch {
		case f.left == 0:
			f.fail(h, ErrTruncatedHeader)
		case len(f.prefix) >= f.lim.MaxHeaderSize:
			f.fail(h, fmt.Errorf("%w: more than %d bytes", ErrHeaderTooLarge, f.lim.MaxHeaderSize))
		}
		return
	}
	if err != nil {
		f.fail(h, err)
		return
	}
	f.state = stateBody
	if h.header() {
		if f.size > f.lim.MaxCaptureSize {
			f.ferr = fmt.Errorf("%w: %d bytes (max %d)", ErrCaptureTooLarge, f.size, f.lim.MaxCaptureSize)
		} else {
			f.capture = true
			f.buf = append(f.buf[:0], f.prefix...)
		}
	}
	if f.left == 0 {
		f.finish(h)
	}
}

// fail ends header decoding with err; the rest of the frame is skipped.
func (f *framer) fail(h frameHooks, err error) {
	f.ferr = err
	f.state = stateBody
	if f.left == 0 {
		f.finish(h)
	}
}

func (f *framer) finish(h frameHooks) {
	var body []byte
	if f.capture {
		body = f.buf
	}
	f.state = stateSize
	h.done(body, f.ferr)
	f.capture = false
}
