package kafka

import (
	"encoding/binary"
	"fmt"
)

// cursor reads the few primitive types headers use. Every method returns
// errNeedMore when b ends before the value does, so that a framer can retry
// once more bytes arrive, and ErrMalformed for values no encoder produces.
type cursor struct {
	b   []byte
	off int
}

func (c *cursor) rest() int { return len(c.b) - c.off }

func (c *cursor) int16() (int16, error) {
	if c.rest() < 2 {
		return 0, errNeedMore
	}
	v := int16(binary.BigEndian.Uint16(c.b[c.off:]))
	c.off += 2
	return v, nil
}

func (c *cursor) int32() (int32, error) {
	if c.rest() < 4 {
		return 0, errNeedMore
	}
	v := int32(binary.BigEndian.Uint32(c.b[c.off:]))
	c.off += 4
	return v, nil
}

func (c *cursor) uvarint() (uint64, error) {
	v, n := binary.Uvarint(c.b[c.off:])
	switch {
	case n == 0:
		return 0, errNeedMore
	case n < 0:
		return 0, fmt.Errorf("%w: varint overflows 64 bits", ErrMalformed)
	}
	c.off += n
	return v, nil
}

// span returns the next n bytes, aliasing b.
func (c *cursor) span(n uint64) ([]byte, error) {
	if uint64(c.rest()) < n {
		return nil, errNeedMore
	}
	s := c.b[c.off : c.off+int(n) : c.off+int(n)]
	c.off += int(n)
	return s, nil
}

// nullableString reads an INT16-length string; nil means null.
func (c *cursor) nullableString() ([]byte, error) {
	n, err := c.int16()
	if err != nil {
		return nil, err
	}
	switch {
	case n == -1:
		return nil, nil
	case n < -1:
		return nil, fmt.Errorf("%w: string length %d", ErrMalformed, n)
	}
	s, err := c.span(uint64(n))
	if s == nil && err == nil {
		s = c.b[c.off:c.off:c.off] // empty, not null
	}
	return s, err
}

// compactNullableString reads a UVARINT(length+1) string; nil means null.
func (c *cursor) compactNullableString() ([]byte, error) {
	n, err := c.uvarint()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	if n-1 > 1<<31 {
		return nil, fmt.Errorf("%w: compact string length %d", ErrMalformed, n-1)
	}
	s, err := c.span(n - 1)
	if s == nil && err == nil {
		s = c.b[c.off:c.off:c.off]
	}
	return s, err
}

// skipTags skips a tagged-field section: a count, then per field a tag, a
// size and the data. Each field takes at least two bytes, so the loop ends
// when the input does, whatever count claims.
func (c *cursor) skipTags() error {
	count, err := c.uvarint()
	if err != nil {
		return err
	}
	for i := uint64(0); i < count; i++ {
		if _, err := c.uvarint(); err != nil {
			return err
		}
		size, err := c.uvarint()
		if err != nil {
			return err
		}
		if _, err := c.span(size); err != nil {
			return err
		}
	}
	return nil
}
