package kafka

// Limits bound what a framer holds for one connection. A zero field takes
// its default.
type Limits struct {
	// MaxFrameSize is the largest frame size accepted; a larger (or
	// negative) size fails the stream with ErrInvalidSize. Zero means
	// 100 MiB, Kafka's socket.request.max.bytes default.
	MaxFrameSize int32
	// MaxHeaderSize bounds the bytes buffered to decode a header that
	// arrives split across writes (client id, tagged fields and, for
	// Produce, the transactional id and acks). Zero means 64 KiB.
	MaxHeaderSize int
	// MaxCaptureSize is the largest frame whose whole body a handler may
	// ask for; larger frames are skipped with ErrCaptureTooLarge. Zero means
	// 16 MiB.
	MaxCaptureSize int32
	// MaxInFlight bounds the correlation ids a ResponseFramer remembers.
	// Zero means 1024.
	MaxInFlight int
}

// Default limits; see Limits.
const (
	DefaultMaxFrameSize   = 100 << 20
	DefaultMaxHeaderSize  = 64 << 10
	DefaultMaxCaptureSize = 16 << 20
	DefaultMaxInFlight    = 1024
)

// withDefaults returns l with zero (or negative) fields set to defaults.
func (l Limits) withDefaults() Limits {
	if l.MaxFrameSize <= 0 {
		l.MaxFrameSize = DefaultMaxFrameSize
	}
	if l.MaxHeaderSize <= 0 {
		l.MaxHeaderSize = DefaultMaxHeaderSize
	}
	if l.MaxCaptureSize <= 0 {
		l.MaxCaptureSize = DefaultMaxCaptureSize
	}
	if l.MaxInFlight <= 0 {
		l.MaxInFlight = DefaultMaxInFlight
	}
	return l
}
