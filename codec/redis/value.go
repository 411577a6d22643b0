package redis

import "bytes"

// MaxReplyDepth bounds the nesting DecodeReply accepts, so that a hostile
// upstream cannot exhaust the stack.
const MaxReplyDepth = 128

// Value is a decoded reply. Byte slices point into the decoded buffer and
// are valid as long as it is.
type Value struct {
	// Type is the RESP type byte: + - : $ * _ , # ! = ( % ~ >.
	Type byte
	// Raw is the exact encoding of the value, including any attributes
	// before it, so a proxy can copy it through (for example into a merged
	// MGET array).
	Raw []byte
	// Str is the text of line types (simple strings, errors, integers,
	// doubles, booleans, big numbers) and the payload of bulk strings, blob
	// errors and verbatim strings.
	Str []byte
	// Int is the value of an integer, or 1/0 for a boolean.
	Int int64
	// Null is set for $-1, *-1 and _.
	Null bool
	// Elems are the elements of arrays, sets and pushes, and the keys and
	// values of maps in order (k1, v1, k2, v2...). Attributes are dropped.
	Elems []Value
}

// IsError reports an error reply (simple or blob).
func (v *Value) IsError() bool { return v.Type == '-' || v.Type == '!' }

// Integer returns the value of an integer reply.
func (v *Value) Integer() (int64, bool) { return v.Int, v.Type == ':' }

// DecodeReply decodes the complete reply at the start of b and returns it
// with its length. It returns ErrIncomplete if b holds only part of a
// reply, ErrTooDeep beyond MaxReplyDepth, or ErrBadReply. It allocates one
// slice per aggregate, never more elements than b has bytes for, whatever
// count a header declares. Where it succeeds, FrameReply returns the same
// length.
func DecodeReply(b []byte) (Value, int, error) {
	return decode(b, 0)
}

func decode(b []byte, depth int) (Value, int, error) {
	if depth > MaxReplyDepth {
		return Value{}, 0, ErrTooDeep
	}
	if len(b) == 0 {
		return Value{}, 0, ErrIncomplete
	}
	v := Value{Type: b[0]}
	switch v.Type {
	case '+', '-', ':', ',', '(', '#', '_':
		j := bytes.IndexByte(b, '\r')
		if j < 0 || j+1 >= len(b) {
			return Value{}, 0, ErrIncomplete
		}
		if b[j+1] != '\n' {
			return Value{}, 0, ErrBadReply
		}
		v.Str = b[1:j:j]
		if err := v.checkLine(); err != nil {
			return Value{}, 0, err
		}
		v.Raw = b[: j+2 : j+2]
		return v, j + 2, nil
	case '$', '!', '=', '*', '%', '~', '>', '|':
	default:
		return Value{}, 0, ErrBadReply
	}
	l, hl, err := header(b)
	if err != nil {
		return Value{}, 0, err
	}
	if hl == 0 {
		return Value{}, 0, ErrIncomplete
	}
	if l < 0 {
		if v.Type != '$' && v.Type != '*' {
			return Value{}, 0, ErrBadReply
		}
		v.Null, v.Raw = true, b[:hl:hl]
		return v, hl, nil
	}
	switch v.Type {
	case '$', '!', '=':
		end := int64(hl) + l
		// Check what has arrived of the CRLF first, as ReplyScanner does.
		if (int64(len(b)) > end && b[end] != '\r') || (int64(len(b)) > end+1 && b[end+1] != '\n') {
			return Value{}, 0, ErrBadReply
		}
		if int64(len(b)) < end+2 {
			return Value{}, 0, ErrIncomplete
		}
		v.Str, v.Raw = b[hl:end:end], b[:end+2:end+2]
		return v, int(end) + 2, nil
	case '|':
		n, err := skipN(b[hl:], 2*l, depth+1)
		if err != nil {
			return Value{}, 0, err
		}
		inner, m, err := decode(b[hl+n:], depth+1)
		if err != nil {
			return Value{}, 0, err
		}
		inner.Raw = b[: hl+n+m : hl+n+m]
		return inner, hl + n + m, nil
	}
	if v.Type == '%' {
		l *= 2
	}
	// Every element takes at least 3 bytes ("_\r\n"): never trust the count
	// further than the buffer.
	v.Elems = make([]Value, 0, min(l, int64(len(b)-hl)/3))
	i := hl
	for range l {
		e, n, err := decode(b[i:], depth+1)
		if err != nil {
			return Value{}, 0, err
		}
		v.Elems = append(v.Elems, e)
		i += n
	}
	v.Raw = b[:i:i]
	return v, i, nil
}

// skipN decodes and drops n values (attributes).
func skipN(b []byte, n int64, depth int) (int, error) {
	i := 0
	for range n {
		_, m, err := decode(b[i:], depth)
		if err != nil {
			return 0, err
		}
		i += m
	}
	return i, nil
}

// checkLine validates the text of integer, boolean and null lines.
func (v *Value) checkLine() error {
	switch v.Type {
	case ':':
		n, ok := parseInt(v.Str)
		if !ok {
			return ErrBadReply
		}
		v.Int = n
	case '#':
		switch string(v.Str) {
		case "t":
			v.Int = 1
		case "f":
		default:
			return ErrBadReply
		}
	case '_':
		if len(v.Str) != 0 {
			return ErrBadReply
		}
		v.Null = true
	}
	return nil
}
