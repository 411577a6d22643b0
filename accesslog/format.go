// Package accesslog formats access log lines with Envoy's command operators
// (%START_TIME%, %REQ(X?Y):Z%, %RESP(...)%, %RESPONSE_CODE%,
// %RESPONSE_FLAGS%, %DURATION%, %UPSTREAM_HOST%, %GRPC_STATUS%, ...) as text or as
// json_format objects, and writes them to files shared by path. A format is
// compiled once per config into a list of parts; formatting appends to a
// caller's buffer.
package accesslog

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultFormat is Envoy's default text format for HTTP.
const DefaultFormat = `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" ` +
	`%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% ` +
	`%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" ` +
	`"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"` + "\n"

// part is a literal (op == "") or one operator.
type part struct {
	lit     string
	op      string
	arg     string // header name, or START_TIME's layout
	alt     string // the header tried when arg is absent (X?Y)
	maxLen  int    // :Z truncation, 0 none
	numeric bool   // a JSON value printed as a number
}

// Format is a compiled text format.
type Format struct{ parts []part }

var simpleOps = map[string]bool{
	"START_TIME": true, "RESPONSE_CODE": true, "RESPONSE_FLAGS": true, "DURATION": true,
	"BYTES_RECEIVED": true, "BYTES_SENT": true, "PROTOCOL": true, "UPSTREAM_HOST": true,
	"UPSTREAM_CLUSTER": true, "DOWNSTREAM_REMOTE_ADDRESS": true, "DOWNSTREAM_LOCAL_ADDRESS": true,
	"DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT": true, "REQUESTED_SERVER_NAME": true,
	"ROUTE_NAME": true, "RESPONSE_CODE_DETAILS": true, "CONNECTION_ID": true, "REQUEST_DURATION": true,
	"RESPONSE_DURATION": true, "UPSTREAM_TRANSPORT_FAILURE_REASON": true, "HOSTNAME": true,
	"CONNECTION_TERMINATION_DETAILS": true, "UPSTREAM_LOCAL_ADDRESS": true, "GRPC_STATUS": true,
}

var numericOps = map[string]bool{"RESPONSE_CODE": true, "DURATION": true, "BYTES_RECEIVED": true,
	"BYTES_SENT": true, "CONNECTION_ID": true, "REQUEST_DURATION": true, "RESPONSE_DURATION": true}

// Compile parses a format string; an unknown operator is an error.
func Compile(s string) (*Format, error) {
	var f Format
	for len(s) > 0 {
		i := strings.IndexByte(s, '%')
		if i < 0 {
			f.parts = append(f.parts, part{lit: s})
			break
		}
		if i > 0 {
			f.parts = append(f.parts, part{lit: s[:i]})
		}
		s = s[i+1:]
		if strings.HasPrefix(s, "%") { // "%%" is a literal percent sign
			f.parts = append(f.parts, part{lit: "%"})
			s = s[1:]
			continue
		}
		// An argument may hold '%' (START_TIME's layout): the operator
		// ends at the first '%' after its closing parenthesis.
		from := 0
		if k := strings.IndexAny(s, "(%"); k >= 0 && s[k] == '(' {
			if c := strings.IndexByte(s[k:], ')'); c >= 0 {
				from = k + c
			}
		}
		j := strings.IndexByte(s[from:], '%')
		if j < 0 {
			return nil, fmt.Errorf("unterminated %% operator at %q", s)
		}
		j += from
		p, err := parseOp(s[:j])
		if err != nil {
			return nil, err
		}
		f.parts = append(f.parts, p)
		s = s[j+1:]
	}
	return &f, nil
}

// parseOp parses "OP", "OP(arg)" or "OP(arg):N".
func parseOp(s string) (part, error) {
	op, rest, hasArg := strings.Cut(s, "(")
	p := part{op: op, numeric: numericOps[op]}
	if !hasArg {
		if !simpleOps[op] {
			return p, fmt.Errorf("unknown command operator %%%s%%", s)
		}
		return p, nil
	}
	arg, tail, ok := strings.Cut(rest, ")")
	if !ok {
		return p, fmt.Errorf("operator %%%s%%: missing )", s)
	}
	if tail != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tail, ":"))
		if !strings.HasPrefix(tail, ":") || err != nil || n <= 0 {
			return p, fmt.Errorf("operator %%%s%%: bad length %q", s, tail)
		}
		p.maxLen = n
	}
	switch op {
	case "REQ", "RESP", "TRAILER":
		p.arg, p.alt, _ = strings.Cut(arg, "?")
		if p.arg == "" {
			return p, fmt.Errorf("operator %%%s%%: needs a header name", s)
		}
	case "START_TIME":
		p.arg = arg
	case "DYNAMIC_METADATA":
		// NAMESPACE[:KEY[:KEY...]]
		p.arg, p.alt, _ = strings.Cut(arg, ":")
		if p.arg == "" {
			return p, fmt.Errorf("operator %%%s%%: needs a namespace", s)
		}
	case "GRPC_STATUS":
		if !grpcFormats[arg] {
			return p, fmt.Errorf("operator %%%s%%: want CAMEL_STRING, SNAKE_STRING or NUMBER", s)
		}
		p.arg = arg
	default:
		return p, fmt.Errorf("unknown command operator %%%s%%", s)
	}
	return p, nil
}

// Append formats r as text onto dst.
func (f *Format) Append(dst []byte, r *Record) []byte {
	for i := range f.parts {
		p := &f.parts[i]
		if p.op == "" {
			dst = append(dst, p.lit...)
			continue
		}
		v, ok := r.value(p)
		if !ok {
			v = "-"
		}
		dst = append(dst, v...)
	}
	return dst
}

// startTime formats t with Envoy's default layout or a strftime subset.
func startTime(t time.Time, layout string) string {
	t = t.UTC()
	if layout == "" {
		return t.Format("2006-01-02T15:04:05.000Z")
	}
	r := strings.NewReplacer("%Y", "2006", "%m", "01", "%d", "02", "%H", "15", "%M", "04",
		"%S", "05", "%3f", "000", "%6f", "000000", "%9f", "000000000", "%z", "-0700", "%s", strconv.FormatInt(t.Unix(), 10))
	return t.Format(r.Replace(layout))
}
