package thrift

import (
	"encoding/binary"
	"fmt"
)

// Envoy's auto detection needs the first 8 bytes of a connection.
const detectLen = 8

const (
	binaryVersionMask = 0xffff0000
	binaryVersion1    = 0x80010000
	compactID         = 0x82
	compactVersion    = 0x01
	compactVerMask    = 0x1f
	headerMagic       = 0x0fff
)

// isBinary says whether b starts with the strict binary version word.
func isBinary(b []byte) bool {
	return len(b) >= 4 && binary.BigEndian.Uint32(b)&binaryVersionMask == binaryVersion1
}

// isCompact says whether b starts with the compact protocol id and version.
func isCompact(b []byte) bool {
	return len(b) >= 2 && b[0] == compactID && b[1]&compactVerMask == compactVersion
}

// DetectTransport applies Envoy's AutoTransport rules to the first 8 bytes:
// a length then 0x0fff is header; a length then a protocol start is framed;
// a protocol start at offset 0 is unframed.
func DetectTransport(b []byte) (Transport, error) {
	if len(b) < detectLen {
		return 0, fmt.Errorf("%w: %d bytes to detect the transport", ErrMalformed, len(b))
	}
	if binary.BigEndian.Uint16(b[4:]) == headerMagic {
		return TransportHeader, nil
	}
	if size := int32(binary.BigEndian.Uint32(b)); size > 0 && (isBinary(b[4:]) || isCompact(b[4:])) {
		return TransportFramed, nil
	}
	if isBinary(b) || isCompact(b) {
		return TransportUnframed, nil
	}
	return 0, fmt.Errorf("%w: unknown transport (first bytes % x)", ErrMalformed, b[:detectLen])
}

// DetectProtocol applies Envoy's AutoProtocol rules: the binary version
// word or the compact id. Lax binary cannot be detected (Envoy neither).
func DetectProtocol(b []byte) (Protocol, error) {
	switch {
	case isBinary(b):
		return ProtocolBinary, nil
	case isCompact(b):
		return ProtocolCompact, nil
	}
	n := min(len(b), 4)
	return 0, fmt.Errorf("%w: unknown protocol (first bytes % x)", ErrMalformed, b[:n])
}
