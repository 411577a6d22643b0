package redis

import "bytes"

const (
	// maxHeaderLen bounds a length header line ("$<n>", "*<n>"...): a type
	// byte, at most 20 digits with a sign, CRLF, with slack.
	maxHeaderLen = 32
	// maxPending bounds the elements still owed by open aggregates, so that
	// hostile counts cannot overflow the counter.
	maxPending = 1 << 53
)

// ReplyScanner walks replies from an upstream as bytes arrive, telling how
// many bytes belong to the current reply, without holding the reply: a
// proxy can forward a 1 GiB bulk reply in chunks. It understands RESP2 and
// the RESP3 types _ , # ! = ( % ~ > | with any nesting, using one counter
// and no stack. Streamed RESP3 strings and aggregates ("$?", "*?") are
// refused; Redis does not send them.
//
// The scanner does not validate the text of simple lines (":abc\r\n" frames
// as one reply); DecodeReply does. The zero value is ready to use.
type ReplyScanner struct {
	pending int64 // elements still to scan in the current reply
	bulk    int64 // payload bytes plus CRLF still to skip
	inLine  bool  // inside a simple line whose CRLF has not been seen
	started bool
}

// Scan consumes the prefix of b that belongs to the current reply. n is the
// number of bytes consumed; the caller forwards b[:n] and presents b[n:]
// again, with more bytes appended, on the next call (Scan leaves a header
// line or a final '\r' unconsumed until it is complete). done reports that
// the reply ended exactly at b[n]; the scanner is then ready for the next
// reply. An error means the stream is not RESP and must be closed.
func (s *ReplyScanner) Scan(b []byte) (n int, done bool, err error) {
	i := 0
	for {
		if s.bulk > 0 {
			if s.bulk > 2 {
				take := min(s.bulk-2, int64(len(b)-i))
				i += int(take)
				s.bulk -= take
			}
			for s.bulk > 0 && i < len(b) {
				want := byte('\n')
				if s.bulk == 2 {
					want = '\r'
				}
				if b[i] != want {
					return i, false, ErrBadReply
				}
				i++
				s.bulk--
			}
			if s.bulk > 0 {
				return i, false, nil
			}
		}
		if s.inLine {
			j := indexCR(b[i:])
			if j < 0 {
				return len(b), false, nil
			}
			j += i
			if j+1 >= len(b) {
				return j, false, nil
			}
			if b[j+1] != '\n' {
				return j, false, ErrBadReply
			}
			i = j + 2
			s.inLine = false
		}
		if s.started && s.pending == 0 {
			*s = ReplyScanner{}
			return i, true, nil
		}
		if i >= len(b) {
			return i, false, nil
		}
		if !s.started {
			s.started, s.pending = true, 1
		}
		t := b[i]
		switch t {
		case '+', '-', ':', ',', '(', '#', '_':
			s.pending--
			s.inLine = true
			i++
			continue
		case '$', '!', '=', '*', '%', '~', '>', '|':
		default:
			return i, false, ErrBadReply
		}
		l, hl, err := header(b[i:])
		if err != nil || hl == 0 {
			return i, false, err
		}
		i += hl
		switch t {
		case '$', '!', '=':
			s.pending--
			if l < 0 {
				if t != '$' {
					return i - hl, false, ErrBadReply
				}
				continue
			}
			s.bulk = l + 2
		case '*', '%', '~', '>':
			s.pending--
			if l < 0 {
				if t != '*' {
					return i - hl, false, ErrBadReply
				}
				continue
			}
			if t == '%' {
				l *= 2
			}
			s.pending += l
		case '|': // attributes precede the value they annotate
			if l < 0 {
				return i - hl, false, ErrBadReply
			}
			s.pending += 2 * l
		}
		if s.pending > maxPending {
			return i - hl, false, ErrBadReply
		}
	}
}

// header parses a length header line at the start of b ("$5\r\n"). hl is
// the line's length including CRLF, 0 if the line is not complete yet. The
// length is -1 or in [0, 2^40].
func header(b []byte) (l int64, hl int, err error) {
	// Fast paths: "-1" (null), and a canonical non-negative length of at
	// most 12 digits.
	if len(b) >= 5 && b[1] == '-' && b[2] == '1' && b[3] == '\r' && b[4] == '\n' {
		return -1, 5, nil
	}
	i := 1
	for end := min(len(b), 13); i < end && b[i] >= '0' && b[i] <= '9'; i++ {
		l = l*10 + int64(b[i]-'0')
	}
	if i > 1 && i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n' && (b[1] != '0' || i == 2) && l <= 1<<40 {
		return l, i + 2, nil
	}
	return headerSlow(b)
}

// headerSlow is header without the fast paths.
func headerSlow(b []byte) (l int64, hl int, err error) {
	lim := min(len(b), maxHeaderLen)
	j := bytes.IndexByte(b[1:lim], '\r')
	if j < 0 {
		if len(b) >= maxHeaderLen {
			return 0, 0, ErrBadReply
		}
		return 0, 0, nil
	}
	j++
	if j+1 >= len(b) {
		return 0, 0, nil
	}
	if b[j+1] != '\n' {
		return 0, 0, ErrBadReply
	}
	l, ok := parseInt(b[1:j])
	if !ok || l < -1 || l > 1<<40 {
		return 0, 0, ErrBadReply
	}
	return l, j + 2, nil
}

// FrameReply returns the length of the complete reply at the start of b, or
// 0 if b holds only part of it. It does not allocate. See ReplyScanner for
// what is checked.
func FrameReply(b []byte) (int, error) {
	var s ReplyScanner
	n, done, err := s.Scan(b)
	if err != nil || !done {
		return 0, err
	}
	return n, nil
}

// indexCR is bytes.IndexByte(b, '\r') with an inline loop for the short
// lines most replies are made of.
func indexCR(b []byte) int {
	for i := 0; i < len(b) && i < 16; i++ {
		if b[i] == '\r' {
			return i
		}
	}
	if len(b) <= 16 {
		return -1
	}
	if j := bytes.IndexByte(b[16:], '\r'); j >= 0 {
		return j + 16
	}
	return -1
}

// AggregateHeader parses the header of an array, set, push or map at the
// start of b and returns how many values follow it (twice the pair count for
// a map; -1 for the null array) and the header's length (0 if incomplete).
// With FrameReply on each following value it lets a proxy walk or merge an
// aggregate (MGET) without decoding it or allocating.
func AggregateHeader(b []byte) (n int64, hl int, err error) {
	if len(b) == 0 {
		return 0, 0, nil
	}
	switch b[0] {
	case '*', '~', '>', '%':
	default:
		return 0, 0, ErrBadReply
	}
	n, hl, err = header(b)
	if err != nil || hl == 0 {
		return 0, 0, err
	}
	if n < 0 && b[0] != '*' {
		return 0, 0, ErrBadReply
	}
	if b[0] == '%' {
		n *= 2
	}
	return n, hl, nil
}
