package redis

import "errors"

// ProtocolError is a malformed request or reply. Its text equals what
// redis-server replies after "-ERR " for the same input, so a proxy can
// answer with AppendErr(dst, err.Error()) and close the connection, as
// redis-server does.
type ProtocolError struct{ msg string }

// Error returns the redis-server error text, such as
// "Protocol error: invalid bulk length".
func (e *ProtocolError) Error() string { return e.msg }

// Errors returned by the request reader; compare with errors.Is.
var (
	// ErrInvalidBulkLength is a bulk header that is not an integer in
	// [0, Limits.MaxBulkLen].
	ErrInvalidBulkLength = &ProtocolError{"Protocol error: invalid bulk length"}
	// ErrInvalidMultibulkLength is an array header that is not an integer or
	// exceeds Limits.MaxMultibulkLen.
	ErrInvalidMultibulkLength = &ProtocolError{"Protocol error: invalid multibulk length"}
	// ErrTooBigInline is an inline command line longer than Limits.MaxInlineLen.
	ErrTooBigInline = &ProtocolError{"Protocol error: too big inline request"}
	// ErrTooBigMbulkCount is an array header line longer than Limits.MaxInlineLen.
	ErrTooBigMbulkCount = &ProtocolError{"Protocol error: too big mbulk count string"}
	// ErrTooBigBulkCount is a bulk header line longer than Limits.MaxInlineLen.
	ErrTooBigBulkCount = &ProtocolError{"Protocol error: too big bulk count string"}
	// ErrUnbalancedQuotes is an inline command with an unterminated quote or a
	// closing quote not followed by a space.
	ErrUnbalancedQuotes = &ProtocolError{"Protocol error: unbalanced quotes in request"}
	// ErrQueryBufferLimit is a single command larger than Limits.MaxQueryLen.
	// redis-server closes such a client without a reply; the text is sluice's.
	ErrQueryBufferLimit = &ProtocolError{"Protocol error: max query buffer length exceeded"}
)

// expectedDollar builds redis-server's "expected '$', got 'x'" error.
func expectedDollar(c byte) error {
	return &ProtocolError{"Protocol error: expected '$', got '" + string(rune(c)) + "'"}
}

// Errors returned by the reply framer and decoder.
var (
	// ErrBadReply is a reply that is not valid RESP2/RESP3.
	ErrBadReply = errors.New("redis: malformed reply")
	// ErrTooDeep is a reply nested deeper than MaxReplyDepth.
	ErrTooDeep = errors.New("redis: reply nested too deep")
	// ErrIncomplete is returned by DecodeReply when b holds only part of a reply.
	ErrIncomplete = errors.New("redis: incomplete reply")
)
