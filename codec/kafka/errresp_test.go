package kafka

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// decodeErrorFrame checks an ErrorResponse frame's size and header and
// decodes its body with kmsg.
func decodeErrorFrame(t *testing.T, key, version int16, corr int32, frame []byte) kmsg.Response {
	t.Helper()
	if len(frame) < 4 || int(binary.BigEndian.Uint32(frame)) != len(frame)-4 {
		t.Fatalf("bad frame size in %x", frame)
	}
	id, n, err := DecodeResponseHeader(frame[4:], ResponseHeaderVersion(key, version))
	if err != nil || id != corr {
		t.Fatalf("header: id %d, err %v", id, err)
	}
	resp := kmsg.ResponseForKey(key)
	resp.SetVersion(version)
	if err := resp.ReadFrom(frame[4+n:]); err != nil {
		t.Fatalf("decoding %s v%d: %v", ApiName(key), version, err)
	}
	return resp
}

func reqBody(r kmsg.Request, version int16) []byte {
	r.SetVersion(version)
	return r.AppendTo(nil)
}

func TestErrorResponse(t *testing.T) {
	produce := kmsg.NewPtrProduceRequest()
	produce.Acks = -1
	for _, name := range []string{"orders", "payments"} {
		tp := kmsg.NewProduceRequestTopic()
		tp.Topic = name
		for p := int32(0); p < 2; p++ {
			pp := kmsg.NewProduceRequestTopicPartition()
			pp.Partition = p
			tp.Partitions = append(tp.Partitions, pp)
		}
		produce.Topics = append(produce.Topics, tp)
	}
	meta := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr("orders")
	meta.Topics = append(meta.Topics, mt)
	allMeta := kmsg.NewPtrMetadataRequest()
	allMeta.Topics = nil
	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.CoordinatorKey = "billing"
	fc.CoordinatorKeys = []string{"billing", "audit"}
	dg := kmsg.NewPtrDescribeGroupsRequest()
	dg.Groups = []string{"billing"}
	dt := kmsg.NewPtrDeleteTopicsRequest()
	dt.TopicNames = []string{"orders"}
	acks0 := kmsg.NewPtrProduceRequest()
	acks0.Acks = 0

	tests := []struct {
		name     string
		key, ver int16
		req      []byte
		check    func(t *testing.T, r kmsg.Response)
		wantErr  error
	}{
		{name: "produce v9 mirrors topics and partitions", key: KeyProduce, ver: 9, req: reqBody(produce, 9),
			check: func(t *testing.T, r kmsg.Response) {
				p := r.(*kmsg.ProduceResponse)
				if len(p.Topics) != 2 || p.Topics[1].Topic != "payments" || len(p.Topics[1].Partitions) != 2 {
					t.Fatalf("topics %+v", p.Topics)
				}
				for _, tp := range p.Topics {
					for i, pp := range tp.Partitions {
						if pp.Partition != int32(i) || pp.ErrorCode != ErrCodeTopicAuthorizationFailed {
							t.Errorf("%s[%d] = %+v", tp.Topic, i, pp)
						}
					}
				}
			}},
		{name: "produce v3, not flexible", key: KeyProduce, ver: 3, req: reqBody(produce, 3),
			check: func(t *testing.T, r kmsg.Response) {
				if p := r.(*kmsg.ProduceResponse); p.Topics[0].Partitions[1].ErrorCode != ErrCodeTopicAuthorizationFailed {
					t.Errorf("%+v", p.Topics)
				}
			}},
		{name: "metadata v12 per topic", key: KeyMetadata, ver: 12, req: reqBody(meta, 12),
			check: func(t *testing.T, r kmsg.Response) {
				m := r.(*kmsg.MetadataResponse)
				if len(m.Topics) != 1 || *m.Topics[0].Topic != "orders" || m.Topics[0].ErrorCode != ErrCodeTopicAuthorizationFailed {
					t.Errorf("topics %+v", m.Topics)
				}
			}},
		{name: "metadata v12 for all topics has nowhere to put the error", key: KeyMetadata, ver: 12,
			req: reqBody(allMeta, 12), wantErr: ErrNoErrorField},
		{name: "find coordinator v3 top level", key: KeyFindCoordinator, ver: 3, req: reqBody(fc, 3),
			check: func(t *testing.T, r kmsg.Response) {
				if f := r.(*kmsg.FindCoordinatorResponse); f.ErrorCode != ErrCodeTopicAuthorizationFailed || f.NodeID != -1 || f.Port != -1 {
					t.Errorf("%+v", f)
				}
			}},
		{name: "find coordinator v4 per key", key: KeyFindCoordinator, ver: 4, req: reqBody(fc, 4),
			check: func(t *testing.T, r kmsg.Response) {
				f := r.(*kmsg.FindCoordinatorResponse)
				if len(f.Coordinators) != 2 || f.Coordinators[1].Key != "audit" || f.Coordinators[1].ErrorCode != ErrCodeTopicAuthorizationFailed {
					t.Errorf("%+v", f.Coordinators)
				}
			}},
		{name: "describe groups from bare strings", key: 15, ver: 5, req: reqBody(dg, 5),
			check: func(t *testing.T, r kmsg.Response) {
				g := r.(*kmsg.DescribeGroupsResponse)
				if len(g.Groups) != 1 || g.Groups[0].Group != "billing" || g.Groups[0].ErrorCode != ErrCodeTopicAuthorizationFailed {
					t.Errorf("%+v", g.Groups)
				}
			}},
		{name: "delete topics v5 renamed slice", key: 20, ver: 5, req: reqBody(dt, 5),
			check: func(t *testing.T, r kmsg.Response) {
				d := r.(*kmsg.DeleteTopicsResponse)
				if len(d.Topics) != 1 || d.Topics[0].Topic == nil || *d.Topics[0].Topic != "orders" {
					t.Errorf("%+v", d.Topics)
				}
			}},
		{name: "api versions v3 without a request body", key: KeyApiVersions, ver: 3,
			check: func(t *testing.T, r kmsg.Response) {
				if a := r.(*kmsg.ApiVersionsResponse); a.ErrorCode != ErrCodeTopicAuthorizationFailed {
					t.Errorf("%+v", a)
				}
			}},
		{name: "produce acks=0 gets no response", key: KeyProduce, ver: 9, req: reqBody(acks0, 9), wantErr: ErrNoResponse},
		{name: "unknown key", key: 999, ver: 0, wantErr: ErrUnknownAPIKey},
		{name: "version above kmsg", key: KeyMetadata, ver: 99, wantErr: ErrUnsupportedVersion},
		{name: "undecodable request", key: KeyProduce, ver: 9, req: []byte{1, 2}, wantErr: errAnyDecode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frame, err := ErrorResponse(tt.key, tt.ver, 42, tt.req, ErrCodeTopicAuthorizationFailed)
			if tt.wantErr == errAnyDecode && err != nil {
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			tt.check(t, decodeErrorFrame(t, tt.key, tt.ver, 42, frame))
		})
	}
}

// sample fills v with one element in every slice and a value in every
// string, so that an ErrorResponse has resources to mirror.
func sample(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() && v.Type().Field(i).Name != "Version" {
				sample(v.Field(i), depth)
			}
		}
	case reflect.String:
		v.SetString("x")
	case reflect.Slice:
		if depth > 4 || v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		s := reflect.MakeSlice(v.Type(), 1, 1)
		if d, ok := s.Index(0).Addr().Interface().(defaulter); ok {
			d.Default()
		}
		sample(s.Index(0), depth+1)
		v.Set(s)
	}
}

// TestErrorResponseEveryAPI synthesizes an error response to a sampled
// request of every key at every version: each must decode with kmsg and
// carry the code, or report ErrNoErrorField.
func TestErrorResponseEveryAPI(t *testing.T) {
	noField := map[string]bool{}
	for k := int16(0); k <= MaxAPIKey; k++ {
		for v := int16(0); v <= MaxVersion(k); v++ {
			req := kmsg.RequestForKey(k)
			sample(reflect.ValueOf(req).Elem(), 0)
			if p, ok := req.(*kmsg.ProduceRequest); ok {
				p.Acks = -1
			}
			req.SetVersion(v)
			body := req.AppendTo(nil)
			frame, err := ErrorResponse(k, v, 7, body, ErrCodeClusterAuthorizationFailed)
			if errors.Is(err, ErrNoErrorField) {
				noField[fmt.Sprintf("%s v%d", ApiName(k), v)] = true
				continue
			}
			if err != nil {
				t.Errorf("%s v%d: %v", ApiName(k), v, err)
				continue
			}
			decodeErrorFrame(t, k, v, 7, frame)
		}
	}
	if len(noField) > 0 {
		t.Logf("no error field for: %v", noField)
	}
}
