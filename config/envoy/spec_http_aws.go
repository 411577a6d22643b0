package envoy

import (
	// The typed_config types of the AWS HTTP filters and their credential provider.
	_ "github.com/envoyproxy/go-control-plane/contrib/envoy/extensions/filters/http/dynamo/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/common/aws/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/aws_lambda/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/aws_request_signing/v3"
)

// awsSpecs: the AWS HTTP filters' typed configs.
var awsSpecs = []message{
	{name: "envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigning", fields: []field{
		ok("service_name"), okNote("region", "unset: AWS_REGION, AWS_DEFAULT_REGION (AWS_SIGV4A_SIGNING_REGION_SET for SigV4A), the profile's region in the credentials then the config file"),
		ok("host_rewrite"),
		okNote("use_unsigned_payload", "otherwise the body is buffered up to 1 MiB (Envoy's default buffer limit) and larger ones get 413"),
		okNote("match_excluded_headers", "x-forwarded-for, x-forwarded-proto and x-amzn-trace-id are always excluded"),
		okNote("signing_algorithm", "AWS_SIGV4 (aws-sdk-go-v2), AWS_SIGV4A (smithy-go aws-http-auth/sigv4a)"),
		okNote("query_string", "presigned URL: X-Amz-* query parameters instead of Authorization"),
		ok("credential_provider"),
	}, note: "credentials from internal/awscreds: Envoy's default chain or credential_provider, slow providers refreshed in the background"},
	{name: "envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigning.QueryString", fields: []field{
		okNote("expiration_time", "default 5s, at most 1h"),
	}},
	{name: "envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigningPerRoute", fields: []field{
		ok("aws_request_signing"), okNote("stat_prefix", "the route's stats are <stat_prefix>aws_request_signing.* at the root, the prefix as written (as in Envoy)"),
	}},
	{name: "envoy.extensions.common.aws.v3.AwsCredentialProvider", fields: []field{
		ok("inline_credential"), ok("credentials_file_provider"), okNote("assume_role_with_web_identity_provider", "STS via aws-sdk-go-v2 stscreds; AWS_ENDPOINT_URL_STS moves the endpoint"),
		ok("custom_credential_provider_chain"), ok("environment_credential_provider"),
		okNote("container_credential_provider", "AWS_CONTAINER_CREDENTIALS_FULL_URI / RELATIVE_URI, token from AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)"),
		okNote("instance_profile_credential_provider", "IMDSv2; AWS_EC2_METADATA_SERVICE_ENDPOINT moves the endpoint"),
	}, note: "iam_roles_anywhere_credential_provider, config_credential_provider and assume_role_credential_provider are refused for now"},
	{name: "envoy.extensions.common.aws.v3.InlineCredentialProvider", fields: oks("access_key_id", "secret_access_key", "session_token")},
	{name: "envoy.extensions.common.aws.v3.CredentialsFileCredentialProvider", translate: tlsMessage, fields: []field{
		okNote("credentials_data_source", "filename only (parsed by the SDK, re-read when it changes)"), ok("profile"),
	}},
	{name: "envoy.extensions.common.aws.v3.AssumeRoleWithWebIdentityCredentialProvider", translate: tlsMessage, fields: []field{
		okNote("web_identity_token_data_source", "filename (read on every fetch) or inline_string"), ok("role_arn"), ok("role_session_name"),
	}},
	{name: "envoy.extensions.common.aws.v3.EnvironmentCredentialProvider"},
	{name: "envoy.extensions.common.aws.v3.ContainerCredentialProvider"},
	{name: "envoy.extensions.common.aws.v3.InstanceProfileCredentialProvider"},
	{name: "envoy.extensions.filters.http.aws_lambda.v3.Config", fields: []field{
		ok("arn"), ok("payload_passthrough"), okNote("invocation_mode", "SYNCHRONOUS, ASYNCHRONOUS"), ok("host_rewrite"),
		ok("credentials_profile"), okNote("credentials", "used instead of the environment and the credentials file"),
	}, note: "credentials inline, else Envoy's default chain (environment, credentials file with credentials_profile, web identity, container, instance metadata); payloads up to Lambda's 6 MB"},
	{name: "envoy.extensions.filters.http.aws_lambda.v3.Credentials", fields: oks("access_key_id", "secret_access_key", "session_token")},
	{name: "envoy.extensions.filters.http.aws_lambda.v3.PerRouteConfig", fields: oks("invoke_config")},
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
