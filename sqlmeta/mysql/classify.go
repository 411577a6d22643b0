package mysql

// Classify returns "select", "insert", "update", "delete" or "other" from
// the first keyword of sql, skipping whitespace, opening parentheses and
// comments (-- , #, /* */), and reading the code inside /*! */ comments as
// the server does. WITH counts as select and REPLACE as insert. It never
// allocates.
func Classify(sql string) string {
	kw := firstKeyword(sql)
	switch {
	case equalFold(kw, "select"), equalFold(kw, "with"), equalFold(kw, "values"), equalFold(kw, "table"):
		return "select"
	case equalFold(kw, "insert"), equalFold(kw, "replace"):
		return "insert"
	case equalFold(kw, "update"):
		return "update"
	case equalFold(kw, "delete"):
		return "delete"
	}
	return "other"
}

// firstKeyword returns the first run of letters outside comments.
func firstKeyword(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '(' || c == ';':
			i++
		case c == '#' || (c == '-' && i+2 < len(s) && s[i+1] == '-' && isSpace(s[i+2])):
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			if i+2 < len(s) && s[i+2] == '!' { // executable comment: run its body
				i += 3
				for i < len(s) && s[i] >= '0' && s[i] <= '9' {
					i++ // version number
				}
				continue
			}
			end := indexFrom(s, i+2, "*/")
			if end < 0 {
				return ""
			}
			i = end + 2
		case isLetter(c):
			j := i
			for j < len(s) && isLetter(s[j]) {
				j++
			}
			return s[i:j]
		default:
			return ""
		}
	}
	return ""
}

func isSpace(c byte) bool  { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// equalFold compares an ASCII word with a lower-case keyword.
func equalFold(word, kw string) bool {
	if len(word) != len(kw) {
		return false
	}
	for i := 0; i < len(word); i++ {
		if word[i]|0x20 != kw[i] {
			return false
		}
	}
	return true
}

func indexFrom(s string, from int, sub string) int {
	for i := from; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
