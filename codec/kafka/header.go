package kafka

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// RequestHeader is a decoded Kafka request header (versions 0 to 2).
type RequestHeader struct {
	APIKey        int16
	APIVersion    int16
	CorrelationID int32
	// ClientID is nil when the client sent a null client id. It aliases the
	// decoder's input: the framers keep it valid until the next frame's
	// header is decoded; copy it to keep it longer.
	ClientID []byte
	// Version is the header version the request was decoded with (0, 1 or
	// 2); unknown API keys are decoded as version 1, whose layout every
	// Kafka version shares up to the client id.
	Version int8
}

// Known reports whether the header's API key is one this package knows.
func (h *RequestHeader) Known() bool { return KnownAPI(h.APIKey) }

// Name returns Envoy's stat name of the header's API key ("" if unknown).
func (h *RequestHeader) Name() string { return ApiName(h.APIKey) }

// DecodeRequestHeader decodes the request header at the start of body (a
// frame without its 4-byte size) and returns it with its length in bytes.
// Tagged fields of a v2 header are validated and skipped. A body that ends
// inside the header yields ErrTruncatedHeader.
func DecodeRequestHeader(body []byte) (RequestHeader, int, error) {
	h, n, err := decodeRequestHeader(body)
	if errors.Is(err, errNeedMore) {
		err = ErrTruncatedHeader
	}
	return h, n, err
}

func decodeRequestHeader(b []byte) (h RequestHeader, n int, err error) {
	c := cursor{b: b}
	if h.APIKey, err = c.int16(); err != nil {
		return h, 0, err
	}
	if h.APIVersion, err = c.int16(); err != nil {
		return h, 0, err
	}
	if h.CorrelationID, err = c.int32(); err != nil {
		return h, 0, err
	}
	h.Version = RequestHeaderVersion(h.APIKey, h.APIVersion)
	if h.Version == 0 {
		return h, c.off, nil
	}
	// The client id stays a non-compact nullable string even in header v2,
	// so that a broker can read an ApiVersions request of any version.
	if h.ClientID, err = c.nullableString(); err != nil {
		return h, 0, fmt.Errorf("client id: %w", err)
	}
	if h.Version == 2 {
		if err = c.skipTags(); err != nil {
			return h, 0, fmt.Errorf("tagged fields: %w", err)
		}
	}
	return h, c.off, nil
}

// AppendRequestHeader appends h in the header version its API key and
// version call for (h.Version is ignored), with no tagged fields.
func AppendRequestHeader(dst []byte, h *RequestHeader) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(h.APIKey))
	dst = binary.BigEndian.AppendUint16(dst, uint16(h.APIVersion))
	dst = binary.BigEndian.AppendUint32(dst, uint32(h.CorrelationID))
	v := RequestHeaderVersion(h.APIKey, h.APIVersion)
	if v == 0 {
		return dst
	}
	if h.ClientID == nil {
		dst = binary.BigEndian.AppendUint16(dst, 0xffff)
	} else {
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(h.ClientID)))
		dst = append(dst, h.ClientID...)
	}
	if v == 2 {
		dst = append(dst, 0) // no tagged fields
	}
	return dst
}

// DecodeResponseHeader decodes a response header of the given header
// version (see ResponseHeaderVersion) at the start of body and returns the
// correlation id and the header's length. A body that ends inside the
// header yields ErrTruncatedHeader.
func DecodeResponseHeader(body []byte, headerVersion int8) (correlationID int32, n int, err error) {
	correlationID, n, err = decodeResponseHeader(body, headerVersion)
	if errors.Is(err, errNeedMore) {
		err = ErrTruncatedHeader
	}
	return correlationID, n, err
}

func decodeResponseHeader(b []byte, headerVersion int8) (int32, int, error) {
	c := cursor{b: b}
	id, err := c.int32()
	if err != nil {
		return 0, 0, err
	}
	if headerVersion >= 1 {
		if err := c.skipTags(); err != nil {
			return id, 0, fmt.Errorf("tagged fields: %w", err)
		}
	}
	return id, c.off, nil
}

// AppendResponseHeader appends the response header that a response to key
// at version carries: the correlation id, and an empty tagged-field section
// for header v1.
func AppendResponseHeader(dst []byte, key, version int16, correlationID int32) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlationID))
	if ResponseHeaderVersion(key, version) == 1 {
		dst = append(dst, 0)
	}
	return dst
}

// ProduceAcks decodes the acks field at the start of a Produce request body
// (after the header) of the given version. acks 0 means the broker sends no
// response, so an observer must not wait for one.
func ProduceAcks(body []byte, version int16) (int16, error) {
	acks, _, err := produceAcks(body, version)
	if errors.Is(err, errNeedMore) {
		err = fmt.Errorf("produce acks: %w", ErrTruncatedHeader)
	}
	return acks, err
}

func produceAcks(b []byte, version int16) (int16, int, error) {
	c := cursor{b: b}
	if version >= 3 { // transactional_id precedes acks from v3
		var err error
		if IsFlexible(KeyProduce, version) {
			_, err = c.compactNullableString()
		} else {
			_, err = c.nullableString()
		}
		if err != nil {
			return 0, 0, fmt.Errorf("transactional id: %w", err)
		}
	}
	acks, err := c.int16()
	return acks, c.off, err
}
