package kafka

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// reqEvent is what a test handler records per request frame.
type reqEvent struct {
	key     int16
	corr    int32
	acks    int16
	client  string
	bodyLen int // -1: not captured
	err     error
}

type recordingRequests struct {
	capture func(*RequestFrame) bool
	events  []reqEvent
}

func (h *recordingRequests) RequestHeader(f *RequestFrame) bool {
	return h.capture != nil && h.capture(f)
}

func (h *recordingRequests) Request(f *RequestFrame, body []byte) {
	ev := reqEvent{key: f.Header.APIKey, corr: f.Header.CorrelationID, acks: f.Acks, client: string(f.Header.ClientID), bodyLen: -1, err: f.Err}
	if body != nil {
		ev.bodyLen = len(body)
		if len(body) != int(f.Size) {
			ev.err = fmt.Errorf("captured %d bytes of %d", len(body), f.Size)
		}
	}
	h.events = append(h.events, ev)
}

func frameOf(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

func kreq(r kmsg.Request, version int16, corr int32) []byte {
	r.SetVersion(version)
	return kmsg.NewRequestFormatter(kmsg.FormatterClientID("cli")).AppendRequest(nil, r, corr)
}

func produceReq(version int16, acks int16, corr int32, payload int) []byte {
	p := kmsg.NewPtrProduceRequest()
	p.Acks = acks
	tx := "txn"
	p.TransactionID = &tx
	t := kmsg.NewProduceRequestTopic()
	t.Topic = "orders"
	pt := kmsg.NewProduceRequestTopicPartition()
	pt.Records = bytes.Repeat([]byte{0xab}, payload)
	t.Partitions = append(t.Partitions, pt)
	p.Topics = append(p.Topics, t)
	return kreq(p, version, corr)
}

func TestRequestFramer(t *testing.T) {
	meta := kreq(kmsg.NewPtrMetadataRequest(), 12, 7)
	bigHeader := frameOf(append([]byte{0, 3, 0, 4, 0, 0, 0, 8, 0x03, 0xe8}, bytes.Repeat([]byte{'c'}, 1000)...))
	tests := []struct {
		name    string
		input   []byte
		lim     Limits
		capture func(*RequestFrame) bool
		want    []reqEvent
		wantErr error
	}{
		{name: "metadata v12, flexible", input: meta,
			want: []reqEvent{{key: 3, corr: 7, acks: 1, client: "cli", bodyLen: -1}}},
		{name: "captured", input: meta, capture: func(*RequestFrame) bool { return true },
			want: []reqEvent{{key: 3, corr: 7, acks: 1, client: "cli", bodyLen: len(meta) - 4}}},
		{name: "capture refused above the limit", input: meta, lim: Limits{MaxCaptureSize: 8},
			capture: func(*RequestFrame) bool { return true },
			want:    []reqEvent{{key: 3, corr: 7, acks: 1, client: "cli", bodyLen: -1, err: ErrCaptureTooLarge}}},
		{name: "produce acks=0 v3 then acks=-1 v9 with payload",
			input: append(produceReq(3, 0, 1, 10), produceReq(9, -1, 2, 5000)...),
			want: []reqEvent{{key: 0, corr: 1, acks: 0, client: "cli", bodyLen: -1},
				{key: 0, corr: 2, acks: -1, client: "cli", bodyLen: -1}}},
		{name: "unknown api key is framed and skipped",
			input: append(frameOf([]byte{0x03, 0xe7, 0, 1, 0, 0, 0, 5, 0, 0, 1, 2, 3}), meta...),
			want: []reqEvent{{key: 999, corr: 5, acks: 1, bodyLen: -1},
				{key: 3, corr: 7, acks: 1, client: "cli", bodyLen: -1}}},
		{name: "empty frame is a truncated header, then framing goes on",
			input: append(frameOf(nil), meta...),
			want: []reqEvent{{acks: 1, bodyLen: -1, err: ErrTruncatedHeader},
				{key: 3, corr: 7, acks: 1, client: "cli", bodyLen: -1}}},
		{name: "frame ends inside the client id",
			input: frameOf([]byte{0, 3, 0, 4, 0, 0, 0, 8, 0, 9, 'a'}),
			want:  []reqEvent{{key: 3, corr: 8, acks: 1, bodyLen: -1, err: ErrTruncatedHeader}}},
		{name: "header above MaxHeaderSize", input: append(bigHeader, meta...), lim: Limits{MaxHeaderSize: 64},
			want: []reqEvent{{key: 3, corr: 8, acks: 1, bodyLen: -1, err: ErrHeaderTooLarge},
				{key: 3, corr: 7, acks: 1, client: "cli", bodyLen: -1}}},
		{name: "negative size is fatal", input: append(append([]byte(nil), meta...), 0xff, 0xff, 0xff, 0xff, 1, 2),
			want:    []reqEvent{{key: 3, corr: 7, acks: 1, client: "cli", bodyLen: -1}},
			wantErr: ErrInvalidSize},
		{name: "size above MaxFrameSize is fatal", input: frameOf(make([]byte, 100)), lim: Limits{MaxFrameSize: 99},
			wantErr: ErrInvalidSize},
	}
	for _, tt := range tests {
		for _, chunk := range []int{1, 3, 7, 64, 1 << 20} {
			t.Run(fmt.Sprintf("%s/chunk=%d", tt.name, chunk), func(t *testing.T) {
				h := &recordingRequests{capture: tt.capture}
				fr := NewRequestFramer(tt.lim, h)
				var err error
				for in := tt.input; len(in) > 0 && err == nil; {
					n := min(chunk, len(in))
					_, err = fr.Write(in[:n])
					in = in[n:]
				}
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if len(h.events) != len(tt.want) {
					t.Fatalf("got %d frames %+v, want %d %+v", len(h.events), h.events, len(tt.want), tt.want)
				}
				for i, got := range h.events {
					want := tt.want[i]
					if !errors.Is(got.err, want.err) || (want.err == nil) != (got.err == nil) {
						t.Errorf("frame %d: err %v, want %v", i, got.err, want.err)
					}
					got.err, want.err = nil, nil
					if got != want {
						t.Errorf("frame %d: got %+v, want %+v", i, got, want)
					}
				}
				if tt.wantErr == nil && fr.Offset() != int64(len(tt.input)) {
					t.Errorf("offset %d, want %d", fr.Offset(), len(tt.input))
				}
			})
		}
	}
}

type respEvent struct {
	key     int16
	corr    int32
	hlen    int
	bodyLen int
	err     error
}

type recordingResponses struct{ events []respEvent }

func (h *recordingResponses) ResponseHeader(*ResponseFrame) bool { return true }

func (h *recordingResponses) Response(f *ResponseFrame, body []byte) {
	n := -1
	if body != nil {
		n = len(body)
	}
	h.events = append(h.events, respEvent{key: f.APIKey, corr: f.CorrelationID, hlen: f.HeaderLen, bodyLen: n, err: f.Err})
}

func TestResponseFramer(t *testing.T) {
	metaBody := kmsg.NewPtrMetadataResponse()
	metaBody.SetVersion(12)
	mb := metaBody.AppendTo(nil)
	avBody := kmsg.NewPtrApiVersionsResponse()
	avBody.SetVersion(3)
	ab := avBody.AppendTo(nil)
	stream := AppendResponseFrame(nil, KeyMetadata, 12, 1, mb)        // header v1: 5 bytes
	stream = AppendResponseFrame(stream, KeyApiVersions, 3, 2, ab)    // header v0: 4 bytes
	stream = AppendResponseFrame(stream, KeyMetadata, 8, 3, []byte{}) // unexpected id
	tagged := frameOf(append([]byte{0, 0, 0, 4, 1, 0, 2, 'x', 'y'}, mb...))
	stream = append(stream, tagged...)
	want := []respEvent{
		{key: KeyMetadata, corr: 1, hlen: 5, bodyLen: len(mb) + 5},
		{key: KeyApiVersions, corr: 2, hlen: 4, bodyLen: len(ab) + 4},
		{key: -1, corr: 3, hlen: 4, bodyLen: -1, err: ErrUnknownCorrelationID},
		{key: KeyMetadata, corr: 4, hlen: 9, bodyLen: len(mb) + 9},
	}
	for _, chunk := range []int{1, 2, 5, 1 << 20} {
		t.Run(fmt.Sprintf("chunk=%d", chunk), func(t *testing.T) {
			h := &recordingResponses{}
			fr := NewResponseFramer(Limits{}, h)
			for _, e := range []struct {
				id       int32
				key, ver int16
			}{{1, KeyMetadata, 12}, {2, KeyApiVersions, 3}, {4, KeyMetadata, 12}} {
				if err := fr.Expect(e.id, e.key, e.ver, 0); err != nil {
					t.Fatal(err)
				}
			}
			for in := stream; len(in) > 0; {
				n := min(chunk, len(in))
				if _, err := fr.Write(in[:n]); err != nil {
					t.Fatal(err)
				}
				in = in[n:]
			}
			if len(h.events) != len(want) {
				t.Fatalf("got %+v, want %+v", h.events, want)
			}
			for i := range want {
				g, w := h.events[i], want[i]
				if !errors.Is(g.err, w.err) || (w.err == nil) != (g.err == nil) {
					t.Errorf("frame %d: err %v, want %v", i, g.err, w.err)
				}
				g.err, w.err = nil, nil
				if g != w {
					t.Errorf("frame %d: got %+v, want %+v", i, g, w)
				}
			}
			if fr.InFlight() != 0 {
				t.Errorf("%d still in flight", fr.InFlight())
			}
		})
	}
}

func TestResponseFramerExpect(t *testing.T) {
	fr := NewResponseFramer(Limits{MaxInFlight: 2}, &recordingResponses{})
	tests := []struct {
		name    string
		id      int32
		wantErr error
	}{
		{"first", 1, nil},
		{"duplicate", 1, ErrDuplicateCorrelationID},
		{"second", 2, nil},
		{"over the bound", 3, ErrTooManyInFlight},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := fr.Expect(tt.id, 3, 1, 0); !errors.Is(err, tt.wantErr) {
				t.Errorf("Expect(%d) = %v, want %v", tt.id, err, tt.wantErr)
			}
		})
	}
}
