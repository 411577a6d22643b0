package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/open-policy-agent/opa/v1/rego"
)

// decider evaluates the prepared query over one input document.
type decider struct{ q rego.PreparedEvalQuery }

// decision is what the policy answered.
type decision struct {
	Allowed         bool
	Headers         map[string]string
	ResponseHeaders map[string]string
	RemoveHeaders   []string
	Status          int
	Body            string
}

// decide evaluates input; an undefined result denies, as the plugin does.
func (d *decider) decide(ctx context.Context, input map[string]any) (decision, error) {
	rs, err := d.q.Eval(ctx, rego.EvalInput(input))
	if err != nil {
		return decision{}, err
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return decision{}, nil
	}
	switch v := rs[0].Expressions[0].Value.(type) {
	case bool:
		return decision{Allowed: v}, nil
	case map[string]any:
		var out decision
		out.Allowed, _ = v["allowed"].(bool)
		out.Headers = strMap(v["headers"])
		out.ResponseHeaders = strMap(v["response_headers_to_add"])
		if l, ok := v["request_headers_to_remove"].([]any); ok {
			for _, h := range l {
				out.RemoveHeaders = append(out.RemoveHeaders, fmt.Sprint(h))
			}
		}
		if n, ok := v["http_status"].(json.Number); ok {
			i, _ := n.Int64()
			out.Status = int(i)
		}
		out.Body, _ = v["body"].(string)
		return out, nil
	default:
		return decision{}, fmt.Errorf("opaauthz: the query gave %T", v)
	}
}

func strMap(v any) map[string]string {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, x := range m {
		out[k] = fmt.Sprint(x)
	}
	return out
}

// addParsed adds the plugin's parsed_path, parsed_query and parsed_body.
func addParsed(input map[string]any, path, body, contentType string) {
	u, err := url.Parse(path)
	if err != nil {
		return
	}
	parts := []any{}
	for _, p := range strings.Split(strings.TrimPrefix(u.Path, "/"), "/") {
		parts = append(parts, p)
	}
	input["parsed_path"] = parts
	q := map[string]any{}
	for k, vs := range u.Query() {
		l := make([]any, len(vs))
		for i, v := range vs {
			l[i] = v
		}
		q[k] = l
	}
	input["parsed_query"] = q
	if strings.HasPrefix(contentType, "application/json") && body != "" {
		var pb any
		if json.Unmarshal([]byte(body), &pb) == nil {
			input["parsed_body"] = pb
		}
	}
}
