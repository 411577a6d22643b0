package envoy

import (
	// The typed_config types of the AWS HTTP filters.
	_ "github.com/envoyproxy/go-control-plane/contrib/envoy/extensions/filters/http/dynamo/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/aws_lambda/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/aws_request_signing/v3"
)

// awsSpecs: the AWS HTTP filters' typed configs.
var awsSpecs = []message{
	{name: "envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigning", fields: []field{
		ok("service_name"), okNote("region", "required (sluice does not read AWS_REGION)"), ok("host_rewrite"),
		okNote("use_unsigned_payload", "otherwise the body is buffered up to 1 MiB (Envoy's default buffer limit) and larger ones get 413"),
		okNote("match_excluded_headers", "x-forwarded-for, x-forwarded-proto and x-amzn-trace-id are always excluded"),
	}, note: "SigV4 only (signing_algorithm AWS_SIGV4A and query_string are not loaded); credentials from the environment or the shared credentials file, re-read when they change"},
	{name: "envoy.extensions.filters.http.aws_lambda.v3.Config", fields: []field{
		ok("arn"), ok("payload_passthrough"), okNote("invocation_mode", "SYNCHRONOUS, ASYNCHRONOUS"), ok("host_rewrite"),
		ok("credentials_profile"), okNote("credentials", "used instead of the environment and the credentials file"),
	}, note: "credentials inline, else from the environment or the shared credentials file (re-read when it changes); payloads up to Lambda's 6 MB"},
	{name: "envoy.extensions.filters.http.aws_lambda.v3.Credentials", fields: oks("access_key_id", "secret_access_key", "session_token")},
	{name: "envoy.extensions.filters.http.dynamo.v3.Dynamo", fields: []field{},
		note: "no fields; request and response bodies are parsed up to 1 MiB each (sluice's max_body_bytes), larger ones are forwarded and counted in invalid_req_body / invalid_resp_body"},
}

// registerAWS adds the tables and the filters' @types before spec.go's init
// indexes them, keeping these filters' loader in its own file.
var _ = registerAWS()

func registerAWS() bool {
	httpSpecs = append(httpSpecs, awsSpecs...)
	httpFilterNames["envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigning"] = "aws_request_signing"
	httpFilterNames["envoy.extensions.filters.http.dynamo.v3.Dynamo"] = "dynamo"
	httpFilterNames["envoy.extensions.filters.http.aws_lambda.v3.Config"] = "aws_lambda"
	return true
}
