package redis

import "io"

// Streaming of commands too large to hold: a proxy that has a buffer limit
// asks Large whether the command being received will exceed it. If so it
// gets the command's Head (the arguments complete so far, enough to route
// on a leading key) and, after StartBody, reads the rest of the command's
// raw bytes with BodyChunk, in pieces no larger than the reader's buffer,
// and forwards them as they come. The reader then holds only its buffer,
// never the value.

// Head is the start of a command too large to hold whole.
type Head struct {
	// NArgs is the declared argument count, the name included.
	NArgs int
	// Args are the arguments complete so far (Args[0] is the name);
	// len(Args) < NArgs. They point into the reader's buffer and are valid
	// until the first BodyChunk call.
	Args [][]byte
	// Raw is the command's bytes so far: the array header, Args, and the
	// header ("$<n>\r\n") of the argument being received.
	Raw []byte
	// BulkLen is the declared length of argument len(Args).
	BulkLen int64
}

// bodyState is where BodyChunk is inside a streamed command.
type bodyState struct {
	on       bool
	left     int64 // bytes left of the current bulk, its CRLF included
	argsLeft int64 // arguments after the current one
	total    int64 // the command's size so far, for MaxQueryLen
}

// Large reports whether the command being received needs more than max
// bytes of buffer, and if so returns its head. It looks only at what
// Next has parsed: call it after Next returned ok == false. A command is
// large only once the header of one of its bulks declares a length that
// takes the command past max; inline commands never are (MaxInlineLen
// bounds them).
func (r *Reader) Large(max int) (Head, bool) {
	if r.err != nil || r.body.on || r.nargs == 0 || r.bulk < 0 || r.need <= max {
		return Head{}, false
	}
	b := r.buf[r.r:r.w]
	r.args = r.args[:0]
	for i := 0; i < len(r.marks); i += 2 {
		r.args = append(r.args, b[r.marks[i]:r.marks[i+1]:r.marks[i+1]])
	}
	return Head{NArgs: int(r.nargs), Args: r.args, Raw: b[:r.pos:r.pos], BulkLen: r.bulk}, true
}

// StartBody consumes the head that Large returned and makes BodyChunk
// return the rest of the command. Next must not be called until BodyChunk
// has reported the command's end.
func (r *Reader) StartBody() {
	done := int64(len(r.marks) / 2)
	r.body = bodyState{on: true, left: r.bulk + 2, argsLeft: r.nargs - done - 1, total: int64(r.pos) + r.bulk + 2}
	r.r += r.pos
	r.resetCommand()
	if len(r.buf) < maxIdleBuf { // fewer, larger reads while the body passes
		nb := make([]byte, maxIdleBuf)
		r.w = copy(nb, r.buf[r.r:r.w])
		r.r, r.buf = 0, nb
	}
}

// InBody reports whether a streamed command's body is being read.
func (r *Reader) InBody() bool { return r.body.on }

// BodyChunk returns the next bytes of the command started with StartBody,
// reading from src when none are buffered; end reports that they are the
// command's last. The bytes are valid until the next call. A stream that
// ends inside the command returns io.ErrUnexpectedEOF; a malformed header
// of a later argument returns a *ProtocolError, as Next would.
func (r *Reader) BodyChunk() (chunk []byte, end bool, err error) {
	if !r.body.on {
		return nil, true, nil
	}
	for {
		if r.r < r.w {
			if r.body.left > 0 {
				n := int(min(r.body.left, int64(r.w-r.r)))
				chunk = r.buf[r.r : r.r+n]
				r.r += n
				r.body.left -= int64(n)
				end = r.body.left == 0 && r.body.argsLeft == 0
				if end {
					r.body = bodyState{}
				}
				return chunk, end, nil
			}
			hdr, ok, err := r.bodyHeader()
			if err != nil {
				r.err = err
				r.body = bodyState{}
				return nil, false, err
			}
			if ok {
				return hdr, false, nil
			}
		}
		if err := r.Fill(); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, false, err
		}
	}
}

// bodyHeader parses the "$<n>\r\n" of the next argument of a streamed
// command; ok is false until the whole line is buffered.
func (r *Reader) bodyHeader() ([]byte, bool, error) {
	b := r.buf[r.r:r.w]
	if b[0] != '$' {
		return nil, false, expectedDollar(b[0])
	}
	ll, nl, ok := r.fastLen(b, 1)
	if !ok {
		var err error
		nl, err = r.line(b, 1, ErrTooBigBulkCount)
		if nl < 0 || err != nil {
			return nil, false, err
		}
		ll, ok = parseInt(b[1:nl])
	}
	if !ok || ll < 0 || ll > r.lim.MaxBulkLen {
		return nil, false, ErrInvalidBulkLength
	}
	r.body.total += int64(nl) + 2 + ll + 2
	if r.body.total > r.lim.MaxQueryLen {
		return nil, false, ErrQueryBufferLimit
	}
	r.scan = 0
	r.r += nl + 2
	r.body.left, r.body.argsLeft = ll+2, r.body.argsLeft-1
	return b[: nl+2 : nl+2], true, nil
}

// BufferSize returns the size of the reader's buffer: what it holds in
// memory, whatever part of it is in use.
func (r *Reader) BufferSize() int { return len(r.buf) }
