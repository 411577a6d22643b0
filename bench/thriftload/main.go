// Command thriftload is the load tool of bench/thrift.sh: a Go Thrift
// server of the test Calc service and a client measuring calls per second,
// both on apache/thrift's Go library (the code generated in
// internal/thrifttest).
//
//	thriftload -mode server -addr 127.0.0.1:9090 [-stack framed/binary]
//	thriftload -mode calls -addr A -c 16 -d 10s [-stack framed/binary]   prints calls/s
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/sluice-proxy/sluice/internal/thrifttest"
	"github.com/sluice-proxy/sluice/internal/thrifttest/calc"
)

func main() {
	mode := flag.String("mode", "server", "server or calls")
	addr := flag.String("addr", "127.0.0.1:9090", "address to listen on or connect to")
	stack := flag.String("stack", "framed/binary", "transport/protocol")
	conc := flag.Int("c", 16, "concurrent client connections")
	dur := flag.Duration("d", 10*time.Second, "duration")
	flag.Parse()
	tr, pr, _ := strings.Cut(*stack, "/")
	st := thrifttest.Stack{Transport: tr, Protocol: pr}
	switch *mode {
	case "server":
		s, err := thrifttest.NewServer(*addr, "bench", st)
		if err != nil {
			log.Fatal(err)
		}
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		s.Stop()
	case "calls":
		fmt.Printf("%.0f\n", calls(*addr, st, *conc, *dur))
	default:
		log.Fatalf("unknown mode %q", *mode)
	}
}

// calls runs conc clients, each calling echo with a 64-byte string in a
// loop, and returns completed calls per second.
func calls(addr string, st thrifttest.Stack, conc int, d time.Duration) float64 {
	var n atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	msg := strings.Repeat("x", 64)
	tf, pf := st.Factories()
	for i := 0; i < conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			trans, err := tf.GetTransport(thrift.NewTSocketConf(addr, &thrift.TConfiguration{ConnectTimeout: 5 * time.Second, SocketTimeout: 30 * time.Second}))
			if err != nil {
				log.Fatal(err)
			}
			if err := trans.Open(); err != nil {
				log.Fatal(err)
			}
			defer trans.Close()
			p := pf.GetProtocol(trans)
			c := calc.NewCalcClient(thrift.NewTStandardClient(p, p))
			ctx := context.Background()
			for time.Now().Before(deadline) {
				if _, err := c.Echo(ctx, msg); err != nil {
					log.Fatalf("echo: %v", err)
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / d.Seconds()
}
