// Command tcpload is the load tool of bench/tcp.sh: an upstream server and two
// clients, one measuring bulk throughput and one measuring connection rate.
//
//	tcpload -mode server -addr 127.0.0.1:9000        echo for connrate, sink/source for throughput
//	tcpload -mode throughput -addr A -c 8 -d 10s      prints MB/s (both directions summed)
//	tcpload -mode connrate -addr A -c 16 -d 10s       prints connections/s (connect, 1-byte echo, close)
//	tcpload ... -tls 1.2|1.3                           throughput and connrate over TLS (bench/tls.sh)
//	tcpload -mode idle -addr A -c 9000 [-proto redis|postgres] opens c connections, one exchange
//	                                                  each (a held echo, PING, or a Postgres startup
//	                                                  and SELECT 1), prints "ready", and
//	                                                  holds them until stdin closes
package main

import (
	"crypto/tls"
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
	mode := flag.String("mode", "server", "server, throughput, connrate or idle")
	proto := flag.String("proto", "tcp", "idle: tcp (a held echo from -mode server), redis (PING) or postgres (startup as user postgres, SELECT 1)")
	addr := flag.String("addr", "127.0.0.1:9000", "address to listen on or connect to")
	conc := flag.Int("c", 8, "concurrent connections")
	dur := flag.Duration("d", 10*time.Second, "duration")
	tlsMode := flag.String("tls", "", "throughput, connrate: speak TLS to addr: 1.2 (ECDHE-ECDSA-AES128-GCM-SHA256 only) or 1.3 (bench/tls.sh)")
	flag.Parse()
	if *tlsMode != "" {
		cfg := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // a benchmark of the handshake, not of trust
		if *tlsMode == "1.2" {
			cfg.MaxVersion, cfg.CipherSuites = tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
		}
		dial = func(addr string) (net.Conn, error) { return tls.Dial("tcp", addr, cfg) }
	}
	switch *mode {
	case "server":
		server(*addr)
	case "throughput":
		fmt.Printf("%.1f\n", throughput(*addr, *conc, *dur))
	case "connrate":
		fmt.Printf("%.0f\n", connrate(*addr, *conc, *dur))
	case "idle":
		idle(*addr, *conc, *proto)
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
			if b[0] == 'H' { // echo, then hold the connection until the client ends it
				c.Write(b[:])
				io.Copy(io.Discard, c)
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

// dial connects the throughput and connrate clients: plain TCP, or TLS
// with -tls (no session resumption: every connection is a full handshake).
var dial = func(addr string) (net.Conn, error) { return net.Dial("tcp", addr) }

func throughput(addr string, conc int, d time.Duration) float64 {
	var total atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	buf := make([]byte, 256<<10)
	for i := 0; i < conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dial(addr)
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
				c, err := dial(addr)
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

// idle opens n connections, makes one exchange on each so that the proxy
// has its upstream side open too, prints "ready" and holds them until stdin
// closes: the caller measures the proxy's memory meanwhile.
func idle(addr string, n int, proto string) {
	hello, want := []byte{'H'}, []byte{'H'}
	if proto == "redis" {
		hello, want = []byte("PING\r\n"), []byte("+PONG\r\n")
	}
	conns := make([]net.Conn, 0, n)
	got := make([]byte, len(want))
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			log.Fatalf("connection %d: %v", i, err)
		}
		c.SetDeadline(time.Now().Add(30 * time.Second))
		if proto == "postgres" {
			if err := pgHello(c); err != nil {
				log.Fatalf("connection %d: %v", i, err)
			}
			c.SetDeadline(time.Time{})
			conns = append(conns, c)
			continue
		}
		if _, err := c.Write(hello); err != nil {
			log.Fatalf("connection %d: %v", i, err)
		}
		if _, err := io.ReadFull(c, got); err != nil || string(got) != string(want) {
			log.Fatalf("connection %d: got %q, %v", i, got, err)
		}
		c.SetDeadline(time.Time{})
		conns = append(conns, c)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
}
