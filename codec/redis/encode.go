package redis

import "strconv"

// The encoders append one RESP2 value to dst and return the extended slice;
// they allocate only when dst must grow.

// AppendSimpleString appends "+s\r\n". s must not contain CR or LF.
func AppendSimpleString(dst []byte, s string) []byte {
	dst = append(dst, '+')
	dst = append(dst, s...)
	return append(dst, '\r', '\n')
}

// AppendOK appends "+OK\r\n".
func AppendOK(dst []byte) []byte { return append(dst, "+OK\r\n"...) }

// AppendError appends "-msg\r\n"; msg starts with its code ("ERR ...",
// "WRONGTYPE ..."). CR and LF in msg are replaced by spaces, as
// redis-server does, so the reply cannot be split.
func AppendError(dst []byte, msg string) []byte {
	return appendLine(append(dst, '-'), msg)
}

// AppendErr appends "-ERR msg\r\n", the generic error; AppendErr(dst,
// err.Error()) of a *ProtocolError is exactly redis-server's reply.
func AppendErr(dst []byte, msg string) []byte {
	return appendLine(append(dst, "-ERR "...), msg)
}

// appendLine appends msg with CR and LF replaced by spaces, then CRLF.
func appendLine(dst []byte, msg string) []byte {
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		dst = append(dst, c)
	}
	return append(dst, '\r', '\n')
}

// AppendWrongArity appends redis-server's reply to a wrong argument count:
// "-ERR wrong number of arguments for 'name' command".
func AppendWrongArity(dst []byte, name string) []byte {
	return AppendError(dst, "ERR wrong number of arguments for '"+name+"' command")
}

// AppendInt appends ":n\r\n".
func AppendInt(dst []byte, n int64) []byte {
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, '\r', '\n')
}

// AppendBulk appends "$len\r\nb\r\n".
func AppendBulk(dst, b []byte) []byte {
	dst = append(dst, '$')
	dst = strconv.AppendInt(dst, int64(len(b)), 10)
	dst = append(dst, '\r', '\n')
	dst = append(dst, b...)
	return append(dst, '\r', '\n')
}

// AppendBulkString appends s as a bulk string.
func AppendBulkString(dst []byte, s string) []byte {
	dst = append(dst, '$')
	dst = strconv.AppendInt(dst, int64(len(s)), 10)
	dst = append(dst, '\r', '\n')
	dst = append(dst, s...)
	return append(dst, '\r', '\n')
}

// AppendNullBulk appends the RESP2 null bulk "$-1\r\n".
func AppendNullBulk(dst []byte) []byte { return append(dst, "$-1\r\n"...) }

// AppendNullArray appends the RESP2 null array "*-1\r\n".
func AppendNullArray(dst []byte) []byte { return append(dst, "*-1\r\n"...) }

// AppendArrayHeader appends "*n\r\n"; n values must follow.
func AppendArrayHeader(dst []byte, n int) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(n), 10)
	return append(dst, '\r', '\n')
}

// AppendCommand appends args as a command: an array of bulk strings.
func AppendCommand(dst []byte, args ...[]byte) []byte {
	dst = AppendArrayHeader(dst, len(args))
	for _, a := range args {
		dst = AppendBulk(dst, a)
	}
	return dst
}

// AppendCommandString appends string args as a command.
func AppendCommandString(dst []byte, args ...string) []byte {
	dst = AppendArrayHeader(dst, len(args))
	for _, a := range args {
		dst = AppendBulkString(dst, a)
	}
	return dst
}
