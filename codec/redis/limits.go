package redis

// Limits bounds what a request reader accepts. A zero field means the
// default shown; DefaultLimits returns all defaults.
type Limits struct {
	// MaxBulkLen is the largest bulk argument, redis-server's
	// proto-max-bulk-len. Default 512 MiB.
	MaxBulkLen int64
	// MaxMultibulkLen is the largest argument count. Default 1024*1024, the
	// limit redis-server applies to unauthenticated clients and applied to
	// all clients before 7.0 (7.0 allows up to INT_MAX once authenticated).
	MaxMultibulkLen int64
	// MaxInlineLen is the longest inline command line and the longest
	// "*<n>" / "$<n>" header line, redis-server's PROTO_INLINE_MAX_SIZE.
	// Default 64 KiB.
	MaxInlineLen int
	// MaxQueryLen is the largest single command in bytes, redis-server's
	// client-query-buffer-limit. Default 1 GiB.
	MaxQueryLen int64
}

// Default limits, as redis-server ships them.
const (
	DefaultMaxBulkLen      = 512 << 20
	DefaultMaxMultibulkLen = 1024 * 1024
	DefaultMaxInlineLen    = 64 << 10
	DefaultMaxQueryLen     = 1 << 30
)

// DefaultLimits returns redis-server's default limits.
func DefaultLimits() Limits {
	return Limits{
		MaxBulkLen:      DefaultMaxBulkLen,
		MaxMultibulkLen: DefaultMaxMultibulkLen,
		MaxInlineLen:    DefaultMaxInlineLen,
		MaxQueryLen:     DefaultMaxQueryLen,
	}
}

// withDefaults fills zero fields with defaults.
func (l Limits) withDefaults() Limits {
	if l.MaxBulkLen <= 0 {
		l.MaxBulkLen = DefaultMaxBulkLen
	}
	if l.MaxMultibulkLen <= 0 {
		l.MaxMultibulkLen = DefaultMaxMultibulkLen
	}
	if l.MaxInlineLen <= 0 {
		l.MaxInlineLen = DefaultMaxInlineLen
	}
	if l.MaxQueryLen <= 0 {
		l.MaxQueryLen = DefaultMaxQueryLen
	}
	return l
}
