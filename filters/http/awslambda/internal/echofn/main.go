// Command echofn is the Lambda function of the aws_lambda tests, written with
// aws-lambda-go: with Envoy's envelope it echoes the request back as an
// envelope (and fails on /fail); any other payload it echoes in {"echo"}.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"
)

type envelope struct {
	RawPath         string            `json:"raw_path"`
	Method          string            `json:"method"`
	Headers         map[string]string `json:"headers"`
	Query           map[string]string `json:"query_string_parameters"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"is_base64_encoded"`
}

func handle(_ context.Context, payload json.RawMessage) (any, error) {
	var env envelope
	if json.Unmarshal(payload, &env) != nil || env.RawPath == "" {
		return map[string]any{"echo": payload, "size": len(payload)}, nil
	}
	if env.RawPath == "/fail" {
		return nil, errors.New("function failed on purpose")
	}
	body := env.Body
	if env.IsBase64Encoded {
		b, _ := base64.StdEncoding.DecodeString(env.Body)
		body = string(b)
	}
	summary, _ := json.Marshal(map[string]any{"method": env.Method, "path": env.RawPath, "query": env.Query,
		"x-test": env.Headers["x-test"], "body_len": len(body), "was_base64": env.IsBase64Encoded})
	return map[string]any{
		"status_code":       201,
		"headers":           map[string]string{"content-type": "application/octet-stream", "x-fn": "yes"},
		"cookies":           []string{"a=1", "b=2"},
		"body":              base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%s", summary))),
		"is_base64_encoded": true,
	}, nil
}

func main() { lambda.Start(handle) }
