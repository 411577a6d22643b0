package thrift

import (
	"errors"
	"fmt"
)

// Transport is a Thrift transport, named as in Envoy's TransportType.
type Transport uint8

const (
	// TransportAuto detects framed, unframed or header on the first message.
	TransportAuto Transport = iota
	// TransportFramed prefixes each message with its 4-byte length.
	TransportFramed
	// TransportUnframed sends messages back to back (the buffered transport).
	TransportUnframed
	// TransportHeader is THeader: a framed envelope with key/value headers.
	TransportHeader
)

// Protocol is a Thrift protocol, named as in Envoy's ProtocolType.
type Protocol uint8

const (
	// ProtocolAuto detects binary or compact on the first message.
	ProtocolAuto Protocol = iota
	// ProtocolBinary is the strict binary protocol (version word 0x8001).
	ProtocolBinary
	// ProtocolLaxBinary is the binary protocol without a version word.
	ProtocolLaxBinary
	// ProtocolCompact is the compact protocol.
	ProtocolCompact
	// ProtocolTwitter is Finagle's upgraded binary protocol; unsupported.
	ProtocolTwitter
)

// MessageType is a Thrift message type.
type MessageType uint8

// Message types, as on the wire.
const (
	Call      MessageType = 1
	Reply     MessageType = 2
	Exception MessageType = 3
	Oneway    MessageType = 4
)

var transportNames = []string{"auto_transport", "framed", "unframed", "header"}
var protocolNames = []string{"auto_protocol", "binary", "lax_binary", "compact", "twitter"}

// String is Envoy's enum name in lower case.
func (t Transport) String() string {
	if int(t) < len(transportNames) {
		return transportNames[t]
	}
	return fmt.Sprintf("transport(%d)", t)
}

// String is Envoy's enum name in lower case.
func (p Protocol) String() string {
	if int(p) < len(protocolNames) {
		return protocolNames[p]
	}
	return fmt.Sprintf("protocol(%d)", p)
}

// ParseTransport maps Envoy's enum names (any case) to a Transport.
func ParseTransport(s string) (Transport, bool) {
	for i, n := range transportNames {
		if equalFold(s, n) {
			return Transport(i), true
		}
	}
	return 0, false
}

// ParseProtocol maps Envoy's enum names (any case) to a Protocol.
func ParseProtocol(s string) (Protocol, bool) {
	for i, n := range protocolNames {
		if equalFold(s, n) {
			return Protocol(i), true
		}
	}
	return 0, false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Message is one decoded Thrift message. Body aliases a buffer the decoder
// allocated for this message alone, so it stays valid after the next call.
type Message struct {
	// Transport and Protocol are those the message came in.
	Transport Transport
	Protocol  Protocol
	Name      string
	Type      MessageType
	SeqID     int32
	// Headers are the header transport's key/value headers (nil otherwise).
	Headers map[string]string
	// Body is the message after its begin: the struct and its stop byte,
	// in Protocol.
	Body []byte
	// Size is the message's size on the wire, envelope included.
	Size int
}

// Errors of the decoder; a caller closes the connection on any of them but
// counts them apart.
var (
	// ErrTooLarge: a frame or message above the decoder's max size.
	ErrTooLarge = errors.New("thrift: message too large")
	// ErrMalformed: bytes that are not a Thrift message.
	ErrMalformed = errors.New("thrift: malformed message")
	// ErrUnsupported: a transport or protocol sluice does not speak.
	ErrUnsupported = errors.New("thrift: unsupported")
)
