package kafkabroker

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	kcodec "github.com/sluice-proxy/sluice/codec/kafka"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/tracing"
)

// conn is one client connection seen through kafka_broker. The terminal
// reads client requests through Read (one goroutine) and writes broker
// responses through Write (another goroutine).
//
// Read feeds the request framer, which counts requests and registers each
// one that expects a response, in order, in the response queue; refused
// requests are cut from the stream by the gate and answered by an injected
// error response. Write feeds the response framer and writes the broker's
// bytes on, replacing frames that must be rewritten and placing each
// injected response right after the response to the request before it, so
// the client sees responses in request order.
type conn struct {
	filters.Conn
	f    *Filter
	s    *filters.Session
	reqs *kcodec.RequestFramer
	gate *gate // nil when nothing is refused

	// mu guards the response framer (Expect and Write), the queue and
	// fatal. wmu orders writes to the client; it is taken before mu is
	// released so that writes leave in the order their bytes were decided.
	mu    sync.Mutex
	wmu   sync.Mutex
	resps *kcodec.ResponseFramer
	queue queue
	fatal error
	rerr  error // set by request callbacks, returned by Read

	clientID string // of the first request
	seenID   bool
	apis     apiSet // API keys used, for the published metadata

	out outStream // Write's state, used only under mu by the writer

	spans map[int32]*tracing.StatementSpan // by correlation id, under mu (tracing.go)
}

func newConn(f *Filter, s *filters.Session, c filters.Conn) *conn {
	k := &conn{Conn: c, f: f, s: s}
	k.reqs = kcodec.NewRequestFramer(f.lim, (*reqHandler)(k))
	k.resps = kcodec.NewResponseFramer(f.lim, (*respHandler)(k))
	if f.denying {
		k.gate = &gate{refused: f.isRefused}
	}
	k.out.c = k
	s.OnClose(k.publish)
	return k
}

// minRead is the smallest buffer Read accepts when refusing: the gate may
// have to put back held bytes before reading.
const minRead = 64

// Read reads client bytes, shows them to the request framer and returns
// those to forward.
func (k *conn) Read(p []byte) (int, error) {
	if k.gate == nil {
		n, err := k.Conn.Read(p)
		if n > 0 {
			if ferr := k.frame(p[:n]); ferr != nil {
				return 0, ferr
			}
		}
		return n, err
	}
	if len(p) < minRead {
		return 0, io.ErrShortBuffer
	}
	for {
		h := k.gate.takeHeld(p)
		n, err := k.Conn.Read(p[h:])
		if n > 0 {
			if ferr := k.frame(p[h : h+n]); ferr != nil {
				return 0, ferr
			}
		}
		w := k.gate.filter(p[:h+n])
		if w > 0 || err != nil {
			return w, err
		}
	}
}

func (k *conn) frame(b []byte) error {
	if _, err := k.reqs.Write(b); err != nil {
		k.f.stats.RequestFailure.Inc()
		return fmt.Errorf("kafka_broker: %w", err)
	}
	if k.rerr != nil {
		return k.rerr
	}
	return nil
}

// reqHandler is conn's kcodec.RequestHandler.
type reqHandler conn

func (h *reqHandler) RequestHeader(f *kcodec.RequestFrame) bool {
	k := (*conn)(h)
	k.f.stats.request(f.Header.APIKey)
	k.apis.add(f.Header.APIKey)
	if !k.seenID {
		k.seenID, k.clientID = true, string(f.Header.ClientID)
	}
	if k.f.isRefused(f.Header.APIKey) {
		k.f.stats.Denied.Inc()
		return true // the body names what the error response must mirror
	}
	if !f.ExpectsResponse() {
		return false
	}
	k.mu.Lock()
	err := k.resps.Expect(f.Header.CorrelationID, f.Header.APIKey, f.Header.APIVersion, time.Now().UnixNano())
	if err == nil {
		err = k.queue.push(entry{corr: f.Header.CorrelationID})
	}
	if err == nil {
		k.startSpan(f.Header.CorrelationID, f.Header.APIKey)
	}
	k.mu.Unlock()
	if err != nil {
		k.rerr = fmt.Errorf("kafka_broker: %w", err)
	}
	return false
}

func (h *reqHandler) Request(f *kcodec.RequestFrame, body []byte) {
	k := (*conn)(h)
	if f.Err != nil && !errors.Is(f.Err, kcodec.ErrCaptureTooLarge) {
		k.f.stats.RequestFailure.Inc()
		if k.f.denying { // the gate may have let a frame through that the framer cannot name
			k.rerr = fmt.Errorf("kafka_broker: request header: %w", f.Err)
		}
		return
	}
	if !k.f.isRefused(f.Header.APIKey) {
		return
	}
	if body == nil {
		k.rerr = fmt.Errorf("kafka_broker: refused %s request: %w", apiLabel(f.Header.APIKey), f.Err)
		return
	}
	resp, err := kcodec.ErrorResponse(f.Header.APIKey, f.Header.APIVersion, f.Header.CorrelationID,
		body[f.HeaderLen:], refusalCode(f.Header.APIKey))
	switch {
	case errors.Is(err, kcodec.ErrNoResponse):
		return // acks=0: the client expects nothing
	case err != nil:
		k.rerr = fmt.Errorf("kafka_broker: answering refused %s request: %w", apiLabel(f.Header.APIKey), err)
		return
	}
	k.inject(resp)
}

// inject sends an error response to the client after the responses to the
// requests before it.
func (k *conn) inject(resp []byte) {
	k.mu.Lock()
	if k.queue.len() > 0 {
		if err := k.queue.push(entry{inject: resp}); err != nil {
			k.rerr = fmt.Errorf("kafka_broker: %w", err)
		}
		k.mu.Unlock()
		return
	}
	k.wmu.Lock()
	k.mu.Unlock()
	_, err := k.Conn.Write(resp)
	k.wmu.Unlock()
	if err != nil {
		k.rerr = fmt.Errorf("kafka_broker: writing error response: %w", err)
	}
}

func apiLabel(key int16) string {
	if n := kcodec.ApiName(key); n != "" {
		return n
	}
	return fmt.Sprintf("api key %d", key)
}
