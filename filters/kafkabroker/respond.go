package kafkabroker

import (
	"errors"
	"fmt"
	"net"

	kcodec "github.com/sluice-proxy/sluice/codec/kafka"
)

// maxHeld bounds the broker bytes held back while a response header is
// still incomplete (a frame's size field and correlation id, with tagged
// fields).
const maxHeld = kcodec.DefaultMaxHeaderSize + 8

var errHeldTooLarge = errors.New("response header not decodable within bound")

// outStream is the state of the broker-to-client stream: which bytes have
// been written on (or dropped, for frames replaced by a rewrite), and the
// few bytes held back because the frame they start has not yet been matched.
//
// Invariant between Writes: held holds the stream bytes [pos, framer offset)
// unless the current frame is being captured, in which case held is empty.
type outStream struct {
	c       *conn
	pos     int64  // stream offset up to which bytes are written or dropped
	held    []byte // bytes [pos, base) not yet decided
	heldOut bool   // held is referenced by bufs: do not reuse it
	base    int64  // stream offset of cur[0]
	cur     []byte // the chunk being written
	inFrame bool   // a matched frame's header was seen and the frame is not over
	capture bool   // ... and the frame is captured to be replaced
	bufs    net.Buffers
}

// bytes appends the stream bytes [a, b) to bufs; they lie in held or cur.
func (o *outStream) bytes(a, b int64) {
	heldStart := o.base - int64(len(o.held))
	if a < o.base {
		e := min(b, o.base)
		o.bufs = append(o.bufs, o.held[a-heldStart:e-heldStart])
		o.heldOut = true
		a = e
	}
	if a < b {
		o.bufs = append(o.bufs, o.cur[a-o.base:b-o.base])
	}
}

// emitTo passes the stream on up to offset x.
func (o *outStream) emitTo(x int64) {
	if x > o.pos {
		o.bytes(o.pos, x)
		o.pos = x
	}
}

// Write shows broker bytes to the response framer and writes to the client
// what the framer's callbacks decided, in stream order.
func (k *conn) Write(p []byte) (int, error) {
	k.mu.Lock()
	if k.fatal != nil {
		k.mu.Unlock()
		return 0, k.fatal
	}
	o := &k.out
	o.base, o.cur, o.bufs = k.resps.Offset(), p, o.bufs[:0]
	if _, err := k.resps.Write(p); err != nil && k.fatal == nil {
		k.f.stats.ResponseFailure.Inc()
		k.fatal = fmt.Errorf("kafka_broker: %w", err)
	}
	end := o.base + int64(len(p))
	switch {
	case o.inFrame && !o.capture:
		o.emitTo(end)
	case o.inFrame:
		o.pos = end // captured: the framer holds the bytes
	}
	k.holdRest(end)
	fatal := k.fatal
	k.wmu.Lock()
	k.mu.Unlock()
	var err error
	if len(o.bufs) > 0 {
		_, err = o.bufs.WriteTo(k.Conn)
	}
	o.cur = nil
	k.wmu.Unlock()
	if fatal != nil {
		return 0, fatal
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// holdRest keeps the stream bytes [pos, end) for the next Write: the start
// of a frame whose header is not yet complete.
func (k *conn) holdRest(end int64) {
	o := &k.out
	var keep []byte
	if !o.heldOut {
		keep = o.held[:0] // append below copies forward within the same array: safe
	}
	if o.pos < end {
		heldStart := o.base - int64(len(o.held))
		if o.pos < o.base {
			keep = append(keep, o.held[o.pos-heldStart:]...)
		}
		keep = append(keep, o.cur[max(o.pos, o.base)-o.base:]...)
		if len(keep) > maxHeld && k.fatal == nil {
			k.fatal = fmt.Errorf("kafka_broker: %w", errHeldTooLarge)
		}
	}
	o.held, o.heldOut = keep, false
}

// respHandler is conn's kcodec.ResponseHandler; its methods run inside
// Write, under conn.mu.
type respHandler conn

func (h *respHandler) ResponseHeader(f *kcodec.ResponseFrame) bool {
	k := (*conn)(h)
	o := &k.out
	o.emitTo(f.Offset)
	o.inFrame, o.capture = true, k.f.captures(f.APIKey)
	return o.capture
}

func (h *respHandler) Response(f *kcodec.ResponseFrame, body []byte) {
	k := (*conn)(h)
	o := &k.out
	end := f.Offset + 4 + int64(f.Size)
	wasCapture := o.inFrame && o.capture
	o.inFrame, o.capture = false, false
	if !f.Matched() {
		k.f.stats.ResponseUnknown.Inc()
		o.emitTo(end)
		return
	}
	k.f.stats.response(f.APIKey, sinceMs(f.Stamp))
	k.endSpan(f.CorrelationID, f.Err != nil)
	switch {
	case f.Err != nil:
		k.f.stats.ResponseFailure.Inc()
		if wasCapture && k.fatal == nil { // the frame's bytes were dropped
			k.fatal = fmt.Errorf("kafka_broker: %s response: %w", apiLabel(f.APIKey), f.Err)
		}
		o.emitTo(end)
	case wasCapture:
		o.pos = end
		o.bufs = append(o.bufs, k.rewritten(f, body))
	default:
		o.emitTo(end)
	}
	o.bufs = k.queue.answered(f.CorrelationID, o.bufs)
}

// rewritten returns the frame to send in place of a captured response: the
// re-encoded response with broker addresses rewritten, or the broker's own
// bytes when it cannot be decoded (counted as response.failure).
func (k *conn) rewritten(f *kcodec.ResponseFrame, body []byte) []byte {
	nb, err := k.f.reencode(f.APIKey, f.APIVersion, body[f.HeaderLen:])
	if err != nil {
		k.f.stats.ResponseFailure.Inc()
		k.s.Log.Debug("kafka_broker: response not rewritten", "api", apiLabel(f.APIKey), "err", err)
		out := make([]byte, 4, 4+len(body))
		out[0], out[1], out[2], out[3] = byte(f.Size>>24), byte(f.Size>>16), byte(f.Size>>8), byte(f.Size)
		return append(out, body...)
	}
	return kcodec.AppendResponseFrame(nil, f.APIKey, f.APIVersion, f.CorrelationID, nb)
}
