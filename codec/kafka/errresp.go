package kafka

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Common Kafka error codes for refused requests.
const (
	ErrCodeTopicAuthorizationFailed   int16 = 29
	ErrCodeGroupAuthorizationFailed   int16 = 30
	ErrCodeClusterAuthorizationFailed int16 = 31
	ErrCodeUnsupportedVersion         int16 = 35
	ErrCodePolicyViolation            int16 = 44
)

// ErrNoResponse means the request gets no response at all (Produce with
// acks=0), so there is nothing to synthesize: the caller should drop it.
var ErrNoResponse = errors.New("kafka: request expects no response")

// ErrorResponse builds the whole framed response (size, header, body) to a
// request of apiKey at apiVersion that answers it with code: code is set in
// every error field the response has at that version, top-level, per
// resource (topic, group, coordinator key, transactional id...) and per
// partition. req is the request body after its header (RequestFrame.HeaderLen
// onwards); it is decoded to mirror the resources the request named, in the
// request's order. req may be nil when the API's only error field is
// top-level. It fails with ErrNoErrorField when the response would carry
// code nowhere (Metadata v0-v12 for all topics, say), ErrUnknownAPIKey,
// ErrUnsupportedVersion, ErrNoResponse, or a decoding error.
func ErrorResponse(apiKey, apiVersion int16, correlationID int32, req []byte, code int16) ([]byte, error) {
	rq := kmsg.RequestForKey(apiKey)
	if rq == nil {
		return nil, fmt.Errorf("kafka: error response: %w: %d", ErrUnknownAPIKey, apiKey)
	}
	name := ApiName(apiKey)
	if apiVersion < 0 || apiVersion > rq.MaxVersion() {
		return nil, fmt.Errorf("kafka: error response to %s v%d: %w (max v%d)",
			name, apiVersion, ErrUnsupportedVersion, rq.MaxVersion())
	}
	rq.SetVersion(apiVersion)
	reqv := reflect.Value{}
	if req != nil {
		if err := rq.ReadFrom(req); err != nil {
			return nil, fmt.Errorf("kafka: error response to %s v%d: decoding request: %w", name, apiVersion, err)
		}
		if p, ok := rq.(*kmsg.ProduceRequest); ok && p.Acks == 0 {
			return nil, fmt.Errorf("kafka: error response to %s v%d: %w", name, apiVersion, ErrNoResponse)
		}
		reqv = reflect.ValueOf(rq).Elem()
	}
	body, err := errorBody(apiKey, apiVersion, reqv, code)
	if err != nil {
		return nil, fmt.Errorf("kafka: error response to %s v%d: %w", name, apiVersion, err)
	}
	// An error field exists at this version only if the code changes the
	// encoding: kmsg encodes by version, reflection cannot see versions.
	if code == 0 {
		return AppendResponseFrame(nil, apiKey, apiVersion, correlationID, body), nil
	}
	zero, err := errorBody(apiKey, apiVersion, reqv, 0)
	if err != nil {
		return nil, fmt.Errorf("kafka: error response to %s v%d: %w", name, apiVersion, err)
	}
	if bytes.Equal(body, zero) {
		return nil, fmt.Errorf("kafka: error response to %s v%d: %w for this request", name, apiVersion, ErrNoErrorField)
	}
	return AppendResponseFrame(nil, apiKey, apiVersion, correlationID, body), nil
}

// errorBody encodes a default response to the request reqv (which may be
// invalid, for no request) with code in every error field.
func errorBody(key, version int16, reqv reflect.Value, code int16) (body []byte, err error) {
	rs := kmsg.ResponseForKey(key)
	rs.SetVersion(version)
	m := mirror{key: key, code: code}
	m.fill(reflect.ValueOf(rs).Elem(), reqv)
	defer func() {
		// kmsg panics on values its encoder cannot represent at a version;
		// a synthesized error must never take the process down.
		if r := recover(); r != nil {
			body, err = nil, fmt.Errorf("encoding: %v", r)
		}
	}()
	return rs.AppendTo(nil), nil
}
