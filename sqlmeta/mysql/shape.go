package mysql

// maxLiteralDigits is the longest digit run AppendShape blanks: longer ones
// could overflow the parser's integer types and parse differently.
const maxLiteralDigits = 18

// AppendShape appends to dst the shape of sql: the text with every
// unsigned integer literal replaced by "0" and every plain comment by a
// space, so that statements differing only in those literals share one
// shape. Statements with the same shape parse (with Parse, for the same
// current database) to the same kinds and tables, or both fail: integer
// literals never name a table, and comments are whitespace to the parser.
//
// The scan follows the TiDB lexer Parse uses (its default SQL mode):
// strings in '…' and "…" with backslash escapes and doubled quotes,
// identifiers in `…`, comments /* … */, "-- " and "#" to the end of the
// line. Only a digit run that is a token of its own is blanked, never one
// inside a quoted string or identifier, next to an identifier character
// ("t1", "1e5", "0x1f", "2024_orders"), after a '.' ("db.123", "1.5") or an
// '@', or longer than 18 digits. ok is false, and dst is returned as
// given, for text the scan does not model: executable comments ("/*!",
// "/*T!") and optimizer hints ("/*+"), and an unterminated comment.
func AppendShape(dst []byte, sql string) (shape []byte, ok bool) {
	start := len(dst)
	ok = literals(sql, func(from, to int, lit bool) {
		switch {
		case !lit:
			dst = append(dst, sql[from:to]...)
		case to-from == 0: // a comment
			dst = append(dst, ' ')
		default:
			dst = append(dst, '0')
		}
	})
	if !ok {
		return dst[:start], false
	}
	return dst, true
}

// literals walks sql and calls emit for consecutive pieces covering it:
// verbatim text (lit false), a blanked integer literal sql[from:to] (lit
// true), or a comment (lit true, from == to, at the comment's start; the
// comment's bytes are skipped). It returns false, having called emit for a
// prefix only, where AppendShape documents that the scan gives up.
func literals(sql string, emit func(from, to int, lit bool)) bool {
	done := 0         // sql[:done] has been emitted
	prev := byte(' ') // the last byte outside comments and white space
	flush := func(i int) {
		if i > done {
			emit(done, i, false)
		}
		done = i
	}
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(sql, i)
			prev = c
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			if i+2 < len(sql) && (sql[i+2] == '!' || sql[i+2] == '+' || sql[i+2] == 'T') {
				return false
			}
			end := indexFrom(sql, i+2, "*/")
			if end < 0 {
				return false
			}
			flush(i)
			emit(i, i, true)
			i, done = end+2, end+2
		case c == '#' || (c == '-' && i+1 < len(sql) && sql[i+1] == '-' && (i+2 == len(sql) || lexSpace(sql[i+2]))):
			end := i
			for end < len(sql) && sql[end] != '\n' {
				end++
			}
			flush(i)
			emit(i, i, true)
			i, done = end, end
		case c >= '0' && c <= '9':
			j := i
			for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
				j++
			}
			inIdent := (i > 0 && identChar(sql[i-1])) || (j < len(sql) && (identChar(sql[j]) || sql[j] == '.'))
			if !inIdent && prev != '.' && prev != '@' && j-i <= maxLiteralDigits {
				flush(i)
				emit(i, j, true)
				done = j
			}
			i, prev = j, '0'
		default: // this byte ('/', '-' or plain) and plain code up to a special byte
			if !lexSpace(c) {
				prev = c
			}
			for i++; i < len(sql) && byteClass[sql[i]] != classSpecial; i++ {
				if byteClass[sql[i]] == classPlain {
					prev = sql[i]
				}
			}
		}
	}
	flush(len(sql))
	return true
}

// Byte classes of the scan: plain code, white space, and bytes that may
// start a quoted token, a comment or a number.
const (
	classPlain = iota
	classSpace
	classSpecial
)

var byteClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case lexSpace(byte(c)):
			t[c] = classSpace
		case c == '\'', c == '"', c == '`', c == '/', c == '#', c == '-', c >= '0' && c <= '9':
			t[c] = classSpecial
		}
	}
	return t
}()

// skipQuoted returns the index just past the quoted string or identifier
// starting at sql[i], or len(sql) when it is not terminated. Strings take
// backslash escapes; a doubled quote stands for itself.
func skipQuoted(sql string, i int) int {
	q := sql[i]
	for i++; i < len(sql); i++ {
		switch sql[i] {
		case '\\':
			if q != '`' {
				i++
			}
		case q:
			if i+1 < len(sql) && sql[i+1] == q {
				i++
				continue
			}
			return i + 1
		}
	}
	return len(sql)
}

// identChar reports whether c continues an unquoted identifier for the
// TiDB lexer (bytes of multi-byte characters included).
func identChar(c byte) bool {
	return isLetter(c) || (c >= '0' && c <= '9') || c == '_' || c == '$' || c >= 0x80
}

// lexSpace reports whether the TiDB lexer takes the byte c for white space
// (unicode.IsSpace of the byte as a rune).
func lexSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r', 0x85, 0xa0:
		return true
	}
	return false
}
