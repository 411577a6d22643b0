// Command rlserver runs internal/ratelimittest (Envoy's rate limit service
// API, counting in redis) for bench/http_authz.sh: one domain, "bench",
// whose generic_key "bench" allows -limit requests per second.
package main

import (
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"

	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"

	"github.com/sluice-proxy/sluice/internal/ratelimittest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "gRPC listen address")
	redisAddr := flag.String("redis", "127.0.0.1:6379", "redis-server address")
	limit := flag.Uint("limit", 1<<30, "requests per second of the bench descriptor")
	flag.Parse()
	s, err := ratelimittest.StartOn(*addr, *redisAddr, map[string][]ratelimittest.Descriptor{"bench": {
		{Key: "generic_key", Value: "bench", RequestsPerUnit: uint32(*limit), Unit: rlsv3.RateLimitResponse_RateLimit_SECOND},
	}})
	if err != nil {
		log.Fatal(err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	s.Stop()
}
