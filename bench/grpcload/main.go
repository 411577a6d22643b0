// Command grpcload is bench/grpc.sh's gRPC load: -conns client connections
// (each its own grpc-go ClientConn, so its own TCP connection) with
// -streams concurrent unary calls each, every stream calling again as soon
// as it is answered, for -d. It prints "calls=N errors=E rps=R p50_ms=A
// p99_ms=B" (latencies of the calls that succeeded). With -serve it is
// instead the upstream of bench/grpc_unary.sh: a grpc-go server answering
// every unary method with the request's bytes.
//
// It is a small Go tool rather than h2load because h2load cannot check
// grpc-status trailers, and a call that fails must not count as served.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"slices"
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
	serve := flag.String("serve", "", "serve echo on this address instead of calling")
	flag.Parse()
	if *serve != "" {
		echo(*serve)
		return
	}

	var calls, errs atomic.Int64
	var firstErr atomic.Value
	// Streams stop calling after d and finish the call in flight: a
	// deadline would fail those calls and count them as errors.
	var stop atomic.Bool
	time.AfterFunc(*d, func() { stop.Store(true) })
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var lats []time.Duration
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
				mine := make([]time.Duration, 0, 4096)
				for !stop.Load() {
					t0 := time.Now()
					if err := cc.Invoke(ctx, *method, &req, &resp); err != nil {
						errs.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
						continue
					}
					mine = append(mine, time.Since(t0))
					calls.Add(1)
				}
				mu.Lock()
				lats = append(lats, mine...)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	slices.Sort(lats)
	pct := func(p float64) float64 {
		if len(lats) == 0 {
			return 0
		}
		return float64(lats[int(p*float64(len(lats)-1))].Microseconds()) / 1000
	}
	fmt.Printf("calls=%d errors=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f\n", calls.Load(), errs.Load(), float64(calls.Load())/el, pct(0.50), pct(0.99))
	if e := firstErr.Load(); e != nil {
		fmt.Fprintln(os.Stderr, "grpcload: first error:", e)
	}
}

// echo serves every unary method on addr, answering the request's bytes.
func echo(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(func(_ any, st grpc.ServerStream) error {
		var b []byte
		if err := st.RecvMsg(&b); err != nil {
			return err
		}
		return st.SendMsg(&b)
	}))
	fmt.Println("ready")
	log.Fatal(srv.Serve(ln))
}
