package awslambda

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// request is Envoy's JSON envelope of an HTTP request.
type request struct {
	RawPath               string            `json:"raw_path"`
	Method                string            `json:"method"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"query_string_parameters,omitempty"`
	Body                  string            `json:"body,omitempty"`
	IsBase64Encoded       bool              `json:"is_base64_encoded"`
}

// response is Envoy's JSON envelope of the function's answer.
type response struct {
	StatusCode      int               `json:"status_code"`
	Headers         map[string]string `json:"headers"`
	Cookies         []string          `json:"cookies"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"is_base64_encoded"`
}

// isText reports whether a body of this content type goes as text; any
// other, and none (Envoy cannot tell then), is base64-encoded, as in Envoy.
func isText(ct string) bool {
	ct = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	switch {
	case ct == "":
		return false
	case strings.HasPrefix(ct, "text/"):
		return true
	}
	switch ct {
	case "application/json", "application/xml", "application/javascript":
		return true
	}
	return false
}

// wrap builds the envelope of r with its body.
func wrap(r *http.Request, body []byte) ([]byte, error) {
	env := request{RawPath: r.URL.RequestURI(), Method: r.Method, Headers: map[string]string{}}
	for k, vs := range r.Header {
		env.Headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	if r.Host != "" {
		env.Headers["host"] = r.Host
	}
	if q := r.URL.Query(); len(q) > 0 {
		env.QueryStringParameters = map[string]string{}
		for k, vs := range q {
			env.QueryStringParameters[k] = vs[len(vs)-1] // the last one wins, as in Envoy
		}
	}
	if len(body) > 0 {
		// A transfer coding other than identity makes the body opaque
		// (Envoy's rule); Go has removed chunked by now, so only others show.
		te := r.TransferEncoding
		if isText(r.Header.Get("Content-Type")) && (len(te) == 0 || strings.EqualFold(te[0], "identity")) {
			env.Body = string(body)
		} else {
			env.Body, env.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return json.Marshal(env)
}

var errBadStatus = errors.New("status_code out of range")

// unwrap writes the function's envelope as the HTTP response.
func unwrap(w http.ResponseWriter, payload []byte) error {
	var resp response
	if err := json.Unmarshal(payload, &resp); err != nil {
		return err
	}
	if resp.StatusCode == 0 {
		resp.StatusCode = http.StatusOK // unset: Lambda's 200 stays, as in Envoy
	}
	if resp.StatusCode < 100 || resp.StatusCode > 999 {
		return errBadStatus
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return err
		}
		body = b
	}
	// JSON unless the function names another type, as in Envoy.
	w.Header().Set("Content-Type", "application/json")
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	w.WriteHeader(resp.StatusCode)
	_, err := w.Write(body)
	return err
}
