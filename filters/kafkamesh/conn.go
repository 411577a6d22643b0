package kafkamesh

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	kcodec "github.com/sluice-proxy/sluice/codec/kafka"
	"github.com/sluice-proxy/sluice/filters"
)

// Kafka error codes the mesh answers with.
const (
	errUnknownTopic         int16 = 3  // UNKNOWN_TOPIC_OR_PARTITION
	errLeaderNotAvailable   int16 = 5  // LEADER_NOT_AVAILABLE
	errNotLeader            int16 = 6  // NOT_LEADER_OR_FOLLOWER
	errNetwork              int16 = 13 // NETWORK_EXCEPTION
	errCoordinatorNotAvail  int16 = 15 // COORDINATOR_NOT_AVAILABLE
	errUnsupportedVersion   int16 = 35 // UNSUPPORTED_VERSION
	errFencedOrUnknownEpoch int16 = 74 // FENCED_LEADER_EPOCH
)

// meshConn is one client connection. Requests are handled one at a time,
// in order, as a broker does: a client's pipelined requests keep their order
// (Produce ordering depends on it) and responses need no reordering.
//
// Requests that wait at the broker (Fetch long polls, JoinGroup and SyncGroup
// during a rebalance) go through clients of the connection's own, so that one
// client's wait never holds up another's requests: a broker serves one request
// per connection at a time, and a JoinGroup queued behind another member's
// JoinGroup on a shared connection would stall the rebalance both wait for.
type meshConn struct {
	m   *Mesh
	s   *filters.Session
	ctx context.Context
	buf []byte
	own map[*upstream]*kgo.Client
}

// ownClient returns the connection's own client of cluster u.
func (mc *meshConn) ownClient(u *upstream) (*kgo.Client, error) {
	if c := mc.own[u]; c != nil {
		return c, nil
	}
	c, err := u.newClient(kgo.AllISRAcks())
	if err != nil {
		return nil, err
	}
	if mc.own == nil {
		mc.own = map[*upstream]*kgo.Client{}
	}
	mc.own[u] = c
	return c, nil
}

func (mc *meshConn) close() {
	for _, c := range mc.own {
		c.Close()
	}
}

// Serve answers the client's requests until it closes, sends a frame the
// mesh cannot read, or ctx ends.
func (m *Mesh) Serve(ctx context.Context, s *filters.Session, c filters.Conn) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { <-ctx.Done(); c.Close() }()
	mc := &meshConn{m: m, s: s, ctx: ctx}
	defer mc.close()
	br := bufio.NewReaderSize(c, 32<<10)
	bw := bufio.NewWriterSize(c, 32<<10)
	for {
		body, err := mc.readFrame(br)
		if err != nil {
			if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				m.stats.Failure.Inc()
				s.Log.Info("kafka_mesh: closing connection", "err", err)
			}
			return
		}
		out, err := mc.handle(body)
		if err != nil {
			m.stats.Failure.Inc()
			s.Log.Info("kafka_mesh: closing connection", "err", err)
			return
		}
		if out == nil {
			continue // acks=0 Produce: no response
		}
		if _, err := bw.Write(out); err == nil && br.Buffered() == 0 {
			err = bw.Flush() // flush unless more pipelined requests are already here
		}
		if err != nil {
			return
		}
	}
}

// readFrame reads one request frame (without its size) into the reused
// buffer; it stays valid until the next call.
func (mc *meshConn) readFrame(br *bufio.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(br, size[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(size[:]))
	if n < 8 || uint32(n) > mc.m.cfg.MaxRequestBytes {
		return nil, fmt.Errorf("request frame of %d bytes (limit %d)", n, mc.m.cfg.MaxRequestBytes)
	}
	if cap(mc.buf) < int(n) || (cap(mc.buf) > mc.m.limit && int(n) <= mc.m.limit) {
		// A request larger than the listener's buffer limit gets a buffer
		// of its own, dropped at the next smaller one: a connection does
		// not keep max_request_bytes once its large request is done.
		mc.buf = make([]byte, n)
	}
	mc.buf = mc.buf[:n]
	if _, err := io.ReadFull(br, mc.buf); err != nil {
		return nil, fmt.Errorf("reading request: %w", err)
	}
	return mc.buf, nil
}

// handle answers one request frame; nil means no response is due.
func (mc *meshConn) handle(body []byte) ([]byte, error) {
	h, hl, err := kcodec.DecodeRequestHeader(body)
	if err != nil {
		return nil, fmt.Errorf("request header: %w", err)
	}
	start := time.Now()
	sup, ok := supportedKey(h.APIKey)
	if h.APIKey == kcodec.KeyApiVersions {
		return mc.apiVersions(&h, body[hl:]), nil
	}
	if !ok || h.APIVersion < sup.min || h.APIVersion > sup.max {
		mc.m.stats.Unsupported.Inc()
		mc.s.Log.Debug("kafka_mesh: unsupported request", "api", h.APIKey, "version", h.APIVersion)
		return mc.errorResponse(&h, body[hl:], errUnsupportedVersion)
	}
	mc.m.stats.Request[h.APIKey].Inc()
	req := kmsg.RequestForKey(h.APIKey)
	if d, ok := req.(interface{ Default() }); ok {
		d.Default() // fields newer than the client's version keep Kafka's defaults upstream
	}
	req.SetVersion(h.APIVersion)
	if err := req.ReadFrom(body[hl:]); err != nil {
		return nil, fmt.Errorf("decoding %s v%d: %w", kcodec.ApiName(h.APIKey), h.APIVersion, err)
	}
	resp, code := mc.dispatch(req)
	mc.m.stats.Duration[h.APIKey].Record(float64(time.Since(start).Microseconds()) / 1000)
	if code != 0 {
		return mc.errorResponse(&h, body[hl:], code)
	}
	if resp == nil {
		return nil, nil
	}
	resp.SetVersion(h.APIVersion)
	return kcodec.AppendResponseFrame(nil, h.APIKey, h.APIVersion, h.CorrelationID, resp.AppendTo(nil)), nil
}

// dispatch runs the API's handler. A handler returns a response, or a code
// for an error response mirroring the request, or (nil, 0) for no response.
func (mc *meshConn) dispatch(req kmsg.Request) (kmsg.Response, int16) {
	switch r := req.(type) {
	case *kmsg.MetadataRequest:
		return mc.metadata(r)
	case *kmsg.FindCoordinatorRequest:
		return mc.findCoordinator(r), 0
	case *kmsg.ProduceRequest:
		return mc.produce(r)
	case *kmsg.FetchRequest:
		return mc.fetch(r), 0
	case *kmsg.ListOffsetsRequest:
		return mc.listOffsets(r), 0
	case *kmsg.CreateTopicsRequest:
		return mc.createTopics(r), 0
	case *kmsg.InitProducerIDRequest:
		return mc.initProducerID(r)
	default:
		return mc.group(req)
	}
}

// errorResponse answers a request with code in every error field.
func (mc *meshConn) errorResponse(h *kcodec.RequestHeader, body []byte, code int16) ([]byte, error) {
	out, err := kcodec.ErrorResponse(h.APIKey, h.APIVersion, h.CorrelationID, body, code)
	switch {
	case errors.Is(err, kcodec.ErrNoResponse):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("answering %s v%d with error %d: %w", kcodec.ApiName(h.APIKey), h.APIVersion, code, err)
	}
	return out, nil
}
