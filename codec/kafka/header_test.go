package kafka

import (
	"bytes"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestDecodeRequestHeaderEveryKey encodes a default request of every key at
// its first flexible version and the version below it (or v0 and its max
// version for APIs never flexible) with kmsg's own RequestFormatter, and
// checks that the decoded header ends exactly where kmsg's body begins.
func TestDecodeRequestHeaderEveryKey(t *testing.T) {
	f := kmsg.NewRequestFormatter(kmsg.FormatterClientID("sluice-test"))
	for k := int16(0); k <= MaxAPIKey; k++ {
		ff := FirstFlexibleVersion(k)
		versions := []int16{ff - 1, ff}
		if ff < 0 {
			versions = []int16{0, MaxVersion(k)}
		}
		for _, v := range versions {
			if v < 0 {
				continue
			}
			req := kmsg.RequestForKey(k)
			req.SetVersion(v)
			frame := f.AppendRequest(nil, req, 0x01020304)
			h, n, err := DecodeRequestHeader(frame[4:])
			if err != nil {
				t.Errorf("%s v%d: %v", ApiName(k), v, err)
				continue
			}
			wantHV := int8(1)
			switch {
			case k == KeyControlledShutdown && v == 0:
				wantHV = 0
			case req.IsFlexible():
				wantHV = 2
			}
			if h.APIKey != k || h.APIVersion != v || h.CorrelationID != 0x01020304 || h.Version != wantHV {
				t.Errorf("%s v%d: got %+v, want key %d version %d header v%d", ApiName(k), v, h, k, v, wantHV)
			}
			if wantHV > 0 && string(h.ClientID) != "sluice-test" {
				t.Errorf("%s v%d: client id %q", ApiName(k), v, h.ClientID)
			}
			if body := req.AppendTo(nil); !bytes.Equal(frame[4+n:], body) {
				t.Errorf("%s v%d: header length %d leaves %d bytes, kmsg body is %d", ApiName(k), v, n, len(frame[4+n:]), len(body))
			}
		}
	}
}

func TestDecodeRequestHeader(t *testing.T) {
	tests := []struct {
		name    string
		input   []byte
		want    RequestHeader
		wantN   int
		wantErr error
	}{
		{"v1 null client id", []byte{0, 3, 0, 4, 0, 0, 0, 9, 0xff, 0xff}, RequestHeader{3, 4, 9, nil, 1}, 10, nil},
		{"v1 empty client id", []byte{0, 3, 0, 4, 0, 0, 0, 9, 0, 0}, RequestHeader{3, 4, 9, []byte{}, 1}, 10, nil},
		{"v2 with a tagged field", []byte{0, 3, 0, 9, 0, 0, 0, 9, 0, 1, 'c', 1, 5, 2, 'x', 'y', 'B'},
			RequestHeader{3, 9, 9, []byte("c"), 2}, 16, nil},
		{"controlled shutdown v0 has no client id", []byte{0, 7, 0, 0, 0, 0, 0, 1}, RequestHeader{7, 0, 1, nil, 0}, 8, nil},
		{"unknown key decoded as v1", []byte{0x7f, 0, 0, 1, 0, 0, 0, 2, 0, 1, 'z'}, RequestHeader{0x7f00, 1, 2, []byte("z"), 1}, 11, nil},
		{"empty", nil, RequestHeader{}, 0, ErrTruncatedHeader},
		{"truncated correlation id", []byte{0, 3, 0, 4, 0, 0}, RequestHeader{}, 0, ErrTruncatedHeader},
		{"truncated client id", []byte{0, 3, 0, 4, 0, 0, 0, 9, 0, 5, 'a'}, RequestHeader{}, 0, ErrTruncatedHeader},
		{"negative client id length", []byte{0, 3, 0, 4, 0, 0, 0, 9, 0xff, 0xfe}, RequestHeader{}, 0, ErrMalformed},
		{"truncated tag", []byte{0, 3, 0, 9, 0, 0, 0, 9, 0, 0, 1, 5, 9, 'x'}, RequestHeader{}, 0, ErrTruncatedHeader},
		{"varint overflow", append([]byte{0, 3, 0, 9, 0, 0, 0, 9, 0, 0}, bytes.Repeat([]byte{0xff}, 11)...), RequestHeader{}, 0, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, n, err := DecodeRequestHeader(tt.input)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if n != tt.wantN || h.APIKey != tt.want.APIKey || h.APIVersion != tt.want.APIVersion ||
				h.CorrelationID != tt.want.CorrelationID || h.Version != tt.want.Version ||
				(h.ClientID == nil) != (tt.want.ClientID == nil) || !bytes.Equal(h.ClientID, tt.want.ClientID) {
				t.Errorf("got %+v n=%d, want %+v n=%d", h, n, tt.want, tt.wantN)
			}
		})
	}
}

func TestHeaderVersions(t *testing.T) {
	tests := []struct {
		name         string
		key, version int16
		wantReq      int8
		wantResp     int8
	}{
		{"metadata v8", KeyMetadata, 8, 1, 0},
		{"metadata v9 flexible", KeyMetadata, 9, 2, 1},
		{"api versions v3 keeps response header v0", KeyApiVersions, 3, 2, 0},
		{"controlled shutdown v0", KeyControlledShutdown, 0, 0, 0},
		{"describe cluster v0 is flexible", KeyDescribeCluster, 0, 2, 1},
		{"future metadata version stays flexible", KeyMetadata, 99, 2, 1},
		{"unknown key", 999, 3, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RequestHeaderVersion(tt.key, tt.version); got != tt.wantReq {
				t.Errorf("RequestHeaderVersion = %d, want %d", got, tt.wantReq)
			}
			if got := ResponseHeaderVersion(tt.key, tt.version); got != tt.wantResp {
				t.Errorf("ResponseHeaderVersion = %d, want %d", got, tt.wantResp)
			}
		})
	}
}

func TestProduceAcks(t *testing.T) {
	tests := []struct {
		name    string
		version int16
		input   []byte
		want    int16
		wantErr error
	}{
		{"v2 has no transactional id", 2, []byte{0xff, 0xff, 0, 0, 0, 1}, -1, nil},
		{"v3 null transactional id", 3, []byte{0xff, 0xff, 0, 0}, 0, nil},
		{"v3 transactional id", 3, []byte{0, 2, 't', 'x', 0, 1}, 1, nil},
		{"v9 compact transactional id", 9, []byte{3, 't', 'x', 0xff, 0xff}, -1, nil},
		{"v9 null", 9, []byte{0, 0, 0}, 0, nil},
		{"truncated", 3, []byte{0, 2, 't'}, 0, ErrTruncatedHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ProduceAcks(tt.input, tt.version)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("acks = %d, want %d", got, tt.want)
			}
		})
	}
}
