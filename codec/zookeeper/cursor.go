package zookeeper

import "encoding/binary"

// cursor reads jute fields from a frame body, bounds-checked: the first
// short read sets err and every later read returns zero values.
type cursor struct {
	b   []byte
	err error
}

func (c *cursor) take(n int) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 {
		c.err = ErrBadField
		return nil
	}
	if len(c.b) < n {
		c.err = ErrTruncated
		return nil
	}
	v := c.b[:n]
	c.b = c.b[n:]
	return v
}

func (c *cursor) int32() int32 {
	v := c.take(4)
	if v == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(v))
}

func (c *cursor) int64() int64 {
	v := c.take(8)
	if v == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

func (c *cursor) bool() bool {
	v := c.take(1)
	return v != nil && v[0] != 0
}

// buffer reads a jute buffer or ustring: an int32 length (-1: null) and
// the bytes, which alias the frame.
func (c *cursor) buffer() []byte {
	n := c.int32()
	if n == -1 || c.err != nil {
		return nil
	}
	return c.take(int(n))
}

// skipString skips a ustring.
func (c *cursor) skipString() { c.buffer() }

// vector reads a vector's count (-1: null, counted as 0); a count larger
// than the bytes left is an error, so a loop over it is bounded.
func (c *cursor) vector(minElem int) int {
	n := c.int32()
	if c.err != nil || n == -1 {
		return 0
	}
	if n < 0 || int(n)*minElem > len(c.b) {
		c.err = ErrBadField
		return 0
	}
	return int(n)
}

// acls skips a vector of ACL {perms int, id {scheme, id}}.
func (c *cursor) acls() {
	for i, n := 0, c.vector(12); i < n && c.err == nil; i++ {
		c.int32()
		c.skipString()
		c.skipString()
	}
}

// strings skips a vector of ustring.
func (c *cursor) strings() {
	for i, n := 0, c.vector(4); i < n && c.err == nil; i++ {
		c.skipString()
	}
}
