package redis

import (
	"bytes"
	"io"
)

// Command is one client request as parsed by a Reader.
type Command struct {
	// Args are the arguments; Args[0] is the command name as sent (any case).
	Args [][]byte
	// Raw is the exact bytes of the command as received, including the
	// final CRLF, so a proxy can forward it unchanged.
	Raw []byte
	// Inline reports a telnet-style command line; Raw is then the line, and
	// arguments that were quoted point into the reader's scratch space.
	Inline bool
}

const (
	defaultBufSize = 16 << 10 // redis-server's PROTO_IOBUF_LEN
	maxIdleBuf     = 4 * defaultBufSize
	minReadSpace   = 1 << 10
)

// Reader parses pipelined client commands from a byte stream, in RESP
// multibulk form or inline form, exactly as redis-server accepts them.
//
// Ownership: the Args slice of a returned Command is reused by the next call
// to Next or ReadCommand. The bytes of Args[i] and Raw point into the
// reader's buffer and stay valid until the next call to Fill (which
// ReadCommand makes only when no complete command is buffered). A caller that
// drains every buffered command with Next before calling Fill may therefore
// keep all their Raw slices until it calls Fill.
//
// Memory: the buffer starts at 16 KiB, allocated at the first Fill (with a
// readiness wait, taken from a shared pool once bytes arrive), and grows
// only while one command does not fit, and only as bytes arrive: to at most
// five times what the client has sent, never past a declared bulk's end. So a 100 MiB SET ends in a
// buffer of exactly 100 MiB plus its header, and a client that declares a
// 512 MiB bulk and sends nothing costs nothing. After a large command the
// buffer shrinks back to 16 KiB. A Reader is not safe for concurrent use.
type Reader struct {
	src  io.Reader
	lim  Limits
	buf  []byte
	r, w int
	rerr error // error from src, reported once the buffer is drained
	err  error // sticky protocol error

	// Parse state of the command starting at buf[r]; offsets are relative
	// to r so that compaction does not disturb them.
	nargs   int64 // declared argument count; 0 before the header is parsed
	pos     int   // where parsing resumes
	scan    int   // where the search for the end of a line resumes
	bulk    int64 // declared length of the pending bulk; -1 if its header is next
	need    int   // bytes the command needs at least, when known
	marks   []int // start, end of each argument parsed so far
	args    [][]byte
	scratch []byte // unescaped inline arguments since the last Fill

	body bodyState // a streamed command's body (stream.go)

	// wait, when set (SetWaitReadable), blocks until src has bytes without
	// reading them; Fill calls it with no buffer held (buffer.go).
	wait func() error
}

// NewReader returns a Reader of commands from src with the given limits
// (zero fields take the defaults of DefaultLimits).
func NewReader(src io.Reader, lim Limits) *Reader {
	r := &Reader{lim: lim.withDefaults()}
	r.Reset(src)
	return r
}

// Reset discards all state and reads from src, keeping the buffers; a
// readiness wait (SetWaitReadable) belonged to the old source and is dropped.
func (r *Reader) Reset(src io.Reader) {
	r.src = src
	r.wait = nil
	r.r, r.w = 0, 0
	r.rerr, r.err = nil, nil
	r.body = bodyState{}
	r.resetCommand()
	r.scratch = r.scratch[:0]
}

func (r *Reader) resetCommand() {
	r.nargs, r.pos, r.scan, r.bulk, r.need = 0, 0, 0, -1, 0
	r.marks = r.marks[:0]
}

// Buffered returns the number of bytes read from src but not yet consumed
// by returned commands (including a partial command).
func (r *Reader) Buffered() int { return r.w - r.r }

// ReadCommand returns the next command, reading from src as needed. It
// returns io.EOF at a clean end of stream, io.ErrUnexpectedEOF if the
// stream ends inside a command, a *ProtocolError for malformed input (after
// which every call returns the same error), or src's error.
func (r *Reader) ReadCommand() (Command, error) {
	for empty := 0; ; {
		cmd, ok, err := r.Next()
		if ok || err != nil {
			return cmd, err
		}
		if empty == 100 { // a source that keeps returning 0, nil
			return Command{}, io.ErrNoProgress
		}
		before := r.Buffered()
		err = r.Fill()
		if r.Buffered() == before {
			empty++
		} else {
			empty = 0
		}
		if err != nil {
			if err == io.EOF && r.r < r.w {
				return Command{}, io.ErrUnexpectedEOF
			}
			return Command{}, err
		}
	}
}

// Next returns the next command if it is complete in the buffer, without
// reading from src. ok is false when more bytes are needed (call Fill).
func (r *Reader) Next() (cmd Command, ok bool, err error) {
	if r.err != nil {
		return Command{}, false, r.err
	}
	cmd, ok, err = r.next()
	if err != nil {
		r.err = err
	}
	return cmd, ok, err
}

// next parses buf[r:w]; see Next.
func (r *Reader) next() (Command, bool, error) {
	for r.r < r.w {
		b := r.buf[r.r:r.w]
		if r.nargs == 0 {
			if b[0] != '*' {
				cmd, n, err := r.inline(b)
				if err != nil || n == 0 {
					return Command{}, false, err
				}
				r.r += n
				r.scan = 0
				if len(cmd.Args) == 0 {
					continue // empty lines are skipped, as redis-server does
				}
				return cmd, true, nil
			}
			ll, nl, ok := r.fastLen(b, 1)
			if !ok {
				var err error
				nl, err = r.line(b, 1, ErrTooBigMbulkCount)
				if nl < 0 || err != nil {
					return Command{}, false, err
				}
				ll, ok = parseInt(b[1:nl])
			}
			if !ok || ll > r.lim.MaxMultibulkLen {
				return Command{}, false, ErrInvalidMultibulkLength
			}
			if ll <= 0 { // "*0" and "*-1" are skipped, as redis-server does
				r.r += nl + 2
				r.scan = 0
				continue
			}
			r.nargs, r.pos, r.scan, r.bulk = ll, nl+2, nl+2, -1
			r.marks = r.marks[:0]
		}
		for int64(len(r.marks)/2) < r.nargs {
			if r.bulk < 0 {
				if r.pos >= len(b) {
					return Command{}, false, nil
				}
				if b[r.pos] != '$' {
					return Command{}, false, expectedDollar(b[r.pos])
				}
				ll, nl, ok := r.fastLen(b, r.pos+1)
				if !ok {
					var err error
					nl, err = r.line(b, r.pos+1, ErrTooBigBulkCount)
					if nl < 0 || err != nil {
						return Command{}, false, err
					}
					ll, ok = parseInt(b[r.pos+1 : nl])
				}
				if !ok || ll < 0 || ll > r.lim.MaxBulkLen {
					return Command{}, false, ErrInvalidBulkLength
				}
				if int64(nl)+2+ll+2 > r.lim.MaxQueryLen {
					return Command{}, false, ErrQueryBufferLimit
				}
				r.pos, r.bulk = nl+2, ll
			}
			end := r.pos + int(r.bulk)
			if end+2 > len(b) {
				r.need = end + 2
				return Command{}, false, nil
			}
			// Like redis-server, the two bytes after the data are skipped
			// unchecked; the upstream skips them too, so Raw stays faithful.
			r.marks = append(r.marks, r.pos, end)
			r.pos, r.scan, r.bulk = end+2, end+2, -1
		}
		r.args = r.args[:0]
		for i := 0; i < len(r.marks); i += 2 {
			r.args = append(r.args, b[r.marks[i]:r.marks[i+1]:r.marks[i+1]])
		}
		cmd := Command{Args: r.args, Raw: b[:r.pos:r.pos]}
		r.r += r.pos
		r.resetCommand()
		return cmd, true, nil
	}
	return Command{}, false, nil
}

// fastLen is the fast path for a header line: a canonical non-negative
// length of at most 18 digits followed by '\r' and one more byte. ok is false
// for anything else, which the general path (line, parseInt) then handles
// with redis-server's exact semantics.
func (r *Reader) fastLen(b []byte, from int) (v int64, cr int, ok bool) {
	i := from
	for end := min(len(b), from+18); i < end; i++ {
		c := b[i]
		if c < '0' || c > '9' {
			break
		}
		v = v*10 + int64(c-'0')
	}
	if i == from || i+1 >= len(b) || b[i] != '\r' || (b[from] == '0' && i > from+1) ||
		i-from > r.lim.MaxInlineLen {
		return 0, 0, false
	}
	return v, i, true
}

// line finds the '\r' ending a header line that starts at from, as
// redis-server does (the byte after it is taken as '\n' unchecked). It
// returns -1 when the line is not complete yet, or tooBig when the line
// exceeds MaxInlineLen.
func (r *Reader) line(b []byte, from int, tooBig error) (int, error) {
	start := max(from, r.scan)
	i := bytes.IndexByte(b[start:], '\r')
	if i < 0 {
		r.scan = len(b)
		if len(b)-from > r.lim.MaxInlineLen {
			return -1, tooBig
		}
		return -1, nil
	}
	i += start
	if i-from > r.lim.MaxInlineLen {
		return -1, tooBig
	}
	if i+1 >= len(b) {
		r.scan = i
		return -1, nil
	}
	return i, nil
}

// inline parses one inline command line at the start of b. n == 0 means the
// line is not complete yet; a blank line yields n > 0 and no arguments.
func (r *Reader) inline(b []byte) (Command, int, error) {
	i := bytes.IndexByte(b[r.scan:], '\n')
	if i < 0 {
		r.scan = len(b)
		if len(b) > r.lim.MaxInlineLen {
			return Command{}, 0, ErrTooBigInline
		}
		return Command{}, 0, nil
	}
	i += r.scan
	if i > r.lim.MaxInlineLen {
		return Command{}, 0, ErrTooBigInline
	}
	line := b[:i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	// redis-server splits the line as a C string: a NUL ends it.
	if z := bytes.IndexByte(line, 0); z >= 0 {
		line = line[:z]
	}
	args, scratch, err := splitInline(line, r.args[:0], r.scratch)
	r.args, r.scratch = args, scratch
	if err != nil {
		return Command{}, 0, err
	}
	return Command{Args: args, Raw: b[: i+1 : i+1], Inline: true}, i + 1, nil
}
