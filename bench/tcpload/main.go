// Command tcpload is the load tool of bench/tcp.sh: an upstream server and two
// clients, one measuring bulk throughput and one measuring connection rate.
//
//	tcpload -mode server -addr 127.0.0.1:9000        echo for connrate, sink/source for throughput
//	tcpload -mode throughput -addr A -c 8 -d 10s      prints MB/s (both directions summed)
//	tcpload -mode connrate -addr A -c 16 -d 10s       prints connections/s (connect, 1-byte echo, close)
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	mode := flag.String("mode", "server", "server, throughput or connrate")
	addr := flag.String("addr", "127.0.0.1:9000", "address to listen on or connect to")
	conc := flag.Int("c", 8, "concurrent connections")
	dur := flag.Duration("d", 10*time.Second, "duration")
	flag.Parse()
	switch *mode {
	case "server":
		server(*addr)
	case "throughput":
		fmt.Printf("%.1f\n", throughput(*addr, *conc, *dur))
	case "connrate":
		fmt.Printf("%.0f\n", connrate(*addr, *conc, *dur))
	default:
		log.Fatalf("unknown mode %q", *mode)
	}
}

// server: the first byte of a connection picks its job: 'T' streams bulk
// data both ways (the server discards what it reads and writes zeros), 'E'
// echoes one byte.
func server(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	zeros := make([]byte, 256<<10)
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func() {
			defer c.Close()
			var b [1]byte
			if _, err := io.ReadFull(c, b[:]); err != nil {
				return
			}
			if b[0] == 'E' {
				c.Write(b[:])
				return
			}
			go io.Copy(io.Discard, c)
			for {
				if _, err := c.Write(zeros); err != nil {
					return
				}
			}
		}()
	}
}

func throughput(addr string, conc int, d time.Duration) float64 {
	var total atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	buf := make([]byte, 256<<10)
	for i := 0; i < conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				log.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(deadline)
			c.Write([]byte{'T'})
			go func() {
				for {
					n, err := c.Write(buf)
					total.Add(int64(n))
					if err != nil {
						return
					}
				}
			}()
			rb := make([]byte, 256<<10)
			for {
				n, err := c.Read(rb)
				total.Add(int64(n))
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return float64(total.Load()) / d.Seconds() / 1e6
}

func connrate(addr string, conc int, d time.Duration) float64 {
	var n atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for i := 0; i < conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b [1]byte
			for time.Now().Before(deadline) {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					fmt.Fprintln(os.Stderr, "dial:", err)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				c.Write([]byte{'E'})
				if _, err := io.ReadFull(c, b[:]); err == nil {
					n.Add(1)
				}
				c.Close()
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / d.Seconds()
}
