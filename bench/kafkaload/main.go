// Command kafkaload is bench/kafka.sh's load tool. "kafkaload serve -port P"
// runs an in-process kfake broker that discards produced records (so broker
// storage is out of the measurement); "kafkaload produce -brokers A -secs S"
// produces records of -size bytes with franz-go for S seconds and prints one
// line: acknowledged messages/s and MB/s. -via sends every connection to one
// address, so that a plain TCP proxy can be measured without a rewrite.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: kafkaload serve|produce [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "produce":
		err = produce(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kafkaload:", err)
		os.Exit(1)
	}
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	port := fs.Int("port", 19300, "broker port")
	fs.Parse(args)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(*port), kfake.BlackholeProduce(),
		kfake.SeedTopics(4, "bench"))
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Println("listening", c.ListenAddrs()[0])
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	return nil
}

func produce(args []string) error {
	fs := flag.NewFlagSet("produce", flag.ExitOnError)
	brokers := fs.String("brokers", "127.0.0.1:19300", "bootstrap address")
	secs := fs.Float64("secs", 10, "seconds to produce")
	size := fs.Int("size", 1024, "record value size")
	via := fs.String("via", "", "dial this address whatever the broker advertises (a plain TCP proxy)")
	fs.Parse(args)
	opts := []kgo.Opt{kgo.SeedBrokers(*brokers), kgo.DefaultProduceTopic("bench"),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.ProducerLinger(time.Millisecond),
		kgo.MaxBufferedRecords(20000)}
	if *via != "" {
		d := &net.Dialer{Timeout: 5 * time.Second}
		opts = append(opts, kgo.Dialer(func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, *via)
		}))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(*secs*float64(time.Second)))
	defer cancel()
	// Warm up: metadata and connections.
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Value: []byte("warm")}).FirstErr(); err != nil {
		return err
	}
	value := make([]byte, *size)
	var acked, failed atomic.Int64
	start := time.Now()
	for ctx.Err() == nil {
		cl.Produce(ctx, &kgo.Record{Value: value}, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.Add(1)
				return
			}
			acked.Add(1)
		})
	}
	elapsed := time.Since(start)
	cl.Flush(context.Background())
	n := float64(acked.Load())
	fmt.Printf("msgs/s %.0f MB/s %.1f acked %d failed %d secs %.1f\n",
		n/elapsed.Seconds(), n*float64(*size)/elapsed.Seconds()/1e6, acked.Load(), failed.Load(), elapsed.Seconds())
	return nil
}
