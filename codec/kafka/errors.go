package kafka

import "errors"

// Errors reported by the framers and decoders. Framing errors other than
// ErrInvalidSize are per frame: the framer reports them on the frame and
// carries on with the next one.
var (
	// ErrInvalidSize is fatal: a frame size was negative or above
	// Limits.MaxFrameSize, so the stream cannot be framed any further.
	ErrInvalidSize = errors.New("kafka: invalid frame size")
	// ErrTruncatedHeader means a frame ended before its header did.
	ErrTruncatedHeader = errors.New("kafka: truncated header")
	// ErrHeaderTooLarge means a header (with its client id and tagged
	// fields) did not fit in Limits.MaxHeaderSize.
	ErrHeaderTooLarge = errors.New("kafka: header too large")
	// ErrMalformed means a length or varint in a header is invalid.
	ErrMalformed = errors.New("kafka: malformed header")
	// ErrCaptureTooLarge means the handler asked for a frame's body but the
	// frame is larger than Limits.MaxCaptureSize; the frame was skipped.
	ErrCaptureTooLarge = errors.New("kafka: frame too large to capture")
	// ErrUnknownCorrelationID means a response's correlation id matched no
	// request registered with ResponseFramer.Expect.
	ErrUnknownCorrelationID = errors.New("kafka: response to unknown correlation id")
	// ErrTooManyInFlight means ResponseFramer.Expect was refused because
	// Limits.MaxInFlight requests are already awaiting responses.
	ErrTooManyInFlight = errors.New("kafka: too many requests in flight")
	// ErrDuplicateCorrelationID means a correlation id is already in flight.
	ErrDuplicateCorrelationID = errors.New("kafka: duplicate correlation id in flight")
	// ErrUnknownAPIKey means an API key is not known to this package.
	ErrUnknownAPIKey = errors.New("kafka: unknown api key")
	// ErrUnsupportedVersion means a version is above what kmsg can encode.
	ErrUnsupportedVersion = errors.New("kafka: unsupported api version")
	// ErrNoErrorField means an API's response has no error code field, so
	// no error response can be synthesized for it.
	ErrNoErrorField = errors.New("kafka: response has no error field")

	// errNeedMore is internal: the input ended before the value did, and
	// the framer may still receive the rest.
	errNeedMore = errors.New("kafka: need more bytes")
)
