package redis

// splitInline splits an inline command line into arguments following
// redis-server's sdssplitargs: blanks separate arguments; "double quotes"
// support \n \r \t \b \a \xHH and \<any> escapes; 'single quotes' support \';
// quotes may start mid-word (a"b c" is one argument "ab c"); a closing quote
// must be followed by a blank or the end of the line.
//
// Arguments without quotes are sub-slices of line; quoted ones are built in
// scratch (never longer than line), so no allocation happens once scratch
// and args have grown.
func splitInline(line []byte, args [][]byte, scratch []byte) ([][]byte, []byte, error) {
	n := len(line)
	i := 0
	for {
		for i < n && isSpace(line[i]) {
			i++
		}
		if i >= n {
			return args, scratch, nil
		}
		j := i
		for j < n && !isArgEnd(line[j]) && line[j] != '"' && line[j] != '\'' {
			j++
		}
		if j >= n || isArgEnd(line[j]) {
			args = append(args, line[i:j:j])
			i = j
			continue
		}
		// A quote: build the argument in scratch.
		s := len(scratch)
		scratch = append(scratch, line[i:j]...)
		p := j
		inDouble, inSingle := false, false
		for done := false; !done; {
			if p >= n {
				if inDouble || inSingle {
					return args, scratch, ErrUnbalancedQuotes
				}
				break
			}
			c := line[p]
			switch {
			case inDouble:
				switch {
				case c == '\\' && p+3 < n && line[p+1] == 'x' && isHex(line[p+2]) && isHex(line[p+3]):
					scratch = append(scratch, unhex(line[p+2])<<4|unhex(line[p+3]))
					p += 3
				case c == '\\' && p+1 < n:
					p++
					scratch = append(scratch, unescape(line[p]))
				case c == '"':
					if p+1 < n && !isSpace(line[p+1]) {
						return args, scratch, ErrUnbalancedQuotes
					}
					done = true
				default:
					scratch = append(scratch, c)
				}
			case inSingle:
				switch {
				case c == '\\' && p+1 < n && line[p+1] == '\'':
					p++
					scratch = append(scratch, '\'')
				case c == '\'':
					if p+1 < n && !isSpace(line[p+1]) {
						return args, scratch, ErrUnbalancedQuotes
					}
					done = true
				default:
					scratch = append(scratch, c)
				}
			case isArgEnd(c):
				done = true
			case c == '"':
				inDouble = true
			case c == '\'':
				inSingle = true
			default:
				scratch = append(scratch, c)
			}
			p++
		}
		args = append(args, scratch[s:len(scratch):len(scratch)])
		i = p
	}
}

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// isArgEnd reports the bytes that end an unquoted argument in sdssplitargs.
func isArgEnd(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'a':
		return '\a'
	default:
		return c
	}
}
