// Command grpcload is bench/grpc.sh's gRPC load: -conns client connections
// (each its own grpc-go ClientConn, so its own TCP connection) with
// -streams concurrent unary calls each, every stream calling again as soon
// as it is answered, for -d. It prints "calls=N errors=E rps=R".
//
// It is a small Go tool rather than h2load because h2load cannot check
// grpc-status trailers, and a call that fails must not count as served.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// rawCodec sends and receives message bytes as they are: the bench server
// is protobuf-free.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *v.(*[]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*v.(*[]byte) = append((*v.(*[]byte))[:0], data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "server or proxy address")
	conns := flag.Int("conns", 8, "client connections")
	streams := flag.Int("streams", 8, "concurrent calls per connection")
	d := flag.Duration("d", 10*time.Second, "duration")
	method := flag.String("method", "/bench.Echo/Call", "unary method")
	flag.Parse()

	var calls, errs atomic.Int64
	var firstErr atomic.Value
	// Streams stop calling after d and finish the call in flight: a
	// deadline would fail those calls and count them as errors.
	var stop atomic.Bool
	time.AfterFunc(*d, func() { stop.Store(true) })
	ctx := context.Background()
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < *conns; i++ {
		cc, err := grpc.NewClient("passthrough:///"+*addr,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})))
		if err != nil {
			log.Fatal(err)
		}
		defer cc.Close()
		for j := 0; j < *streams; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req := []byte("ping")
				var resp []byte
				for !stop.Load() {
					if err := cc.Invoke(ctx, *method, &req, &resp); err != nil {
						errs.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
						continue
					}
					calls.Add(1)
				}
			}()
		}
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	fmt.Printf("calls=%d errors=%d rps=%.0f\n", calls.Load(), errs.Load(), float64(calls.Load())/el)
	if e := firstErr.Load(); e != nil {
		fmt.Fprintln(os.Stderr, "grpcload: first error:", e)
	}
}
