package postgres

// Defaults used for zero Config fields.
const (
	// DefaultMaxMessageLen is the server's PQ_LARGE_MESSAGE_LIMIT (1 GiB - 1)
	// plus the 4-byte length field.
	DefaultMaxMessageLen = 0x3fffffff - 1 + 4
	// DefaultMaxSQL is the SQL prefix kept from a Query or Parse.
	DefaultMaxSQL = 64 << 10
	// DefaultMaxBody is the largest body decoded with pgproto3.
	DefaultMaxBody = 64 << 10
	// MaxStartupPacketLen is the server's MAX_STARTUP_PACKET_LENGTH plus the
	// 4-byte length field: the largest startup packet it reads.
	MaxStartupPacketLen = 10000 + 4
	// maxStmtName bounds the statement name kept from a Parse too large to
	// buffer; Postgres names are NAMEDATALEN-1 = 63 bytes in practice.
	maxStmtName = 256
)

// Config bounds a Decoder. The zero value means every default.
type Config struct {
	// MaxMessageLen is the largest length field accepted (it counts itself,
	// not the type byte). Zero means DefaultMaxMessageLen.
	MaxMessageLen int64
	// MaxSQL is how many bytes of a Query's or Parse's SQL text are kept in
	// Message.SQL; longer text is cut and Message.Truncated set. Zero means
	// DefaultMaxSQL.
	MaxSQL int
	// MaxBody is the largest body (length minus 4) buffered and decoded with
	// pgproto3 into Message.Body; larger ones are skipped with Truncated set.
	// DataRow, CopyData and Bind bodies (row data and parameters) are never
	// decoded. Zero means DefaultMaxBody.
	MaxBody int
	// AllowUnknown makes an unknown type byte a message of KindUnknown,
	// skipped by its length, instead of a fatal ErrUnknownType. Envoy's
	// postgres_proxy counts such messages (messages_unknown) and goes on.
	AllowUnknown bool
	// DecodeOnly, when not empty, limits the bodies decoded into
	// Message.Body to these kinds; other messages are framed and reported
	// with a nil Body (Query and Parse keep their SQL and Name). A proxy
	// that reads a few bodies (command tags, errors) skips the pgproto3
	// decode, and its allocations, for every Execute, ReadyForQuery or
	// RowDescription that passes. Empty means every kind.
	DecodeOnly KindSet
}

// KindSet is a set of message kinds; the zero value is empty.
type KindSet [2]uint64

// Every Kind fits a KindSet (a negative constant here fails the build).
const _ = uint(128 - numKinds)

// Kinds returns the set of ks.
func Kinds(ks ...Kind) KindSet {
	var s KindSet
	for _, k := range ks {
		s[k/64] |= 1 << (k % 64)
	}
	return s
}

// Has reports whether k is in s.
func (s KindSet) Has(k Kind) bool { return s[k/64]&(1<<(k%64)) != 0 }

// decodes reports whether a body of kind k is decoded under c.
func (c *Config) decodes(k Kind) bool { return c.DecodeOnly == KindSet{} || c.DecodeOnly.Has(k) }

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.MaxMessageLen <= 0 {
		c.MaxMessageLen = DefaultMaxMessageLen
	}
	if c.MaxSQL <= 0 {
		c.MaxSQL = DefaultMaxSQL
	}
	if c.MaxBody <= 0 {
		c.MaxBody = DefaultMaxBody
	}
	return c
}

// Bound is the most buffer memory, in bytes, a Decoder with this Config
// retains (Decoder.Retained never exceeds it), whatever it is fed.
func (c Config) Bound() int {
	c = c.withDefaults()
	return max(MaxStartupPacketLen, c.MaxBody, c.MaxSQL+1, maxStmtName+1+c.MaxSQL)
}
