// Package all links every filter into the binary; import it for its side
// effect of registering them.
package all

import (
	_ "github.com/sluice-proxy/sluice/filters/http/awslambda"  // aws_lambda
	_ "github.com/sluice-proxy/sluice/filters/http/awssigning" // aws_request_signing
	_ "github.com/sluice-proxy/sluice/filters/http/dynamo"     // dynamo

	_ "github.com/sluice-proxy/sluice/filters/httpconn"    // http_connection_manager
	_ "github.com/sluice-proxy/sluice/filters/kafkabroker" // kafka_broker
	_ "github.com/sluice-proxy/sluice/filters/kafkamesh"   // kafka_mesh
	_ "github.com/sluice-proxy/sluice/filters/mysql"       // mysql_proxy
	_ "github.com/sluice-proxy/sluice/filters/postgres"    // postgres_proxy
	_ "github.com/sluice-proxy/sluice/filters/rbac"        // rbac
	_ "github.com/sluice-proxy/sluice/filters/redis"       // redis_proxy
	_ "github.com/sluice-proxy/sluice/filters/tcpproxy"    // tcp_proxy
	_ "github.com/sluice-proxy/sluice/filters/thrift"      // thrift_proxy
	_ "github.com/sluice-proxy/sluice/filters/zookeeper"   // zookeeper_proxy

	_ "github.com/sluice-proxy/sluice/filters/connlimit"           // connection_limit
	_ "github.com/sluice-proxy/sluice/filters/http/buffer"         // HTTP buffer
	_ "github.com/sluice-proxy/sluice/filters/http/compressor"     // HTTP compressor
	_ "github.com/sluice-proxy/sluice/filters/http/cors"           // HTTP cors
	_ "github.com/sluice-proxy/sluice/filters/http/decompressor"   // HTTP decompressor
	_ "github.com/sluice-proxy/sluice/filters/http/fault"          // HTTP fault
	_ "github.com/sluice-proxy/sluice/filters/http/grpcstats"      // HTTP grpc_stats
	_ "github.com/sluice-proxy/sluice/filters/http/healthcheck"    // HTTP health_check
	_ "github.com/sluice-proxy/sluice/filters/http/jwtauthn"       // jwt_authn HTTP filter
	_ "github.com/sluice-proxy/sluice/filters/http/localratelimit" // HTTP local_ratelimit
	_ "github.com/sluice-proxy/sluice/filters/http/rbac"           // rbac HTTP filter
	_ "github.com/sluice-proxy/sluice/filters/localratelimit"      // local_ratelimit

	// HTTP dynamic_forward_proxy (egress).
	_ "github.com/sluice-proxy/sluice/filters/http/dynamicforwardproxy"

	// HTTP grpc_web and grpc_http1_bridge.
	_ "github.com/sluice-proxy/sluice/filters/http/grpchttp1bridge"
	_ "github.com/sluice-proxy/sluice/filters/http/grpcweb"
	// HTTP ext_authz, the global ratelimit and header_to_metadata.
	_ "github.com/sluice-proxy/sluice/filters/http/extauthz"
	_ "github.com/sluice-proxy/sluice/filters/http/headertometadata"
	_ "github.com/sluice-proxy/sluice/filters/http/ratelimit"
)
