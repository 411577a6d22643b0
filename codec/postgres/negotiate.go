package postgres

import (
	"bytes"
	"encoding/binary"
	"errors"

	"github.com/jackc/pgproto3/v2"
)

// NegotiateProtocolVersion ('v') is the server's answer to a StartupMessage
// asking for a newer minor protocol or for options ("_pq_.*") it does not
// know. pgproto3 v2 has no type for it.
type NegotiateProtocolVersion struct {
	NewestMinorProtocol uint32   // newest minor version the server supports
	UnrecognizedOptions []string // options of the StartupMessage it ignored
}

// Backend marks the message as sent by the server.
func (*NegotiateProtocolVersion) Backend() {}

var errNegotiate = errors.New("NegotiateProtocolVersion body is invalid")

// Decode decodes src, the body without type byte and length.
func (dst *NegotiateProtocolVersion) Decode(src []byte) error {
	if len(src) < 8 {
		return errNegotiate
	}
	dst.NewestMinorProtocol = binary.BigEndian.Uint32(src)
	n := binary.BigEndian.Uint32(src[4:])
	src = src[8:]
	if uint64(n) > uint64(len(src)) { // each option takes at least its NUL
		return errNegotiate
	}
	dst.UnrecognizedOptions = dst.UnrecognizedOptions[:0]
	for range n {
		opt, rest, ok := bytes.Cut(src, []byte{0})
		if !ok {
			return errNegotiate
		}
		dst.UnrecognizedOptions = append(dst.UnrecognizedOptions, string(opt))
		src = rest
	}
	if len(src) != 0 {
		return errNegotiate
	}
	return nil
}

// Encode appends the message, with type byte and length, to dst.
func (src *NegotiateProtocolVersion) Encode(dst []byte) ([]byte, error) {
	start := len(dst)
	dst = append(dst, 'v', 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, src.NewestMinorProtocol)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(src.UnrecognizedOptions)))
	for _, o := range src.UnrecognizedOptions {
		dst = append(append(dst, o...), 0)
	}
	binary.BigEndian.PutUint32(dst[start+1:], uint32(len(dst)-start-1))
	return dst, nil
}

var _ pgproto3.BackendMessage = (*NegotiateProtocolVersion)(nil)
