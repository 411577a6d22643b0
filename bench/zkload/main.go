// Command zkload is bench/zookeeper.sh's load: N go-zookeeper sessions
// doing a read-heavy mix (get and exists, one set in 20) on a few znodes
// for a fixed time, printing operations per second.
//
//	zkload setup -addr 127.0.0.1:2181
//	zkload run -addr 127.0.0.1:2181 -clients 16 -secs 10
package main

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"
)

const nodes = 16

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: zkload setup|run -addr host:port [-clients N] [-secs S]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:2181", "ZooKeeper (or proxy) address")
	clients := fs.Int("clients", 16, "concurrent sessions")
	secs := fs.Int("secs", 10, "seconds to run")
	fs.Parse(os.Args[2:])
	switch os.Args[1] {
	case "setup":
		c := dial(*addr)
		defer c.Close()
		c.Create("/zkload", nil, 0, zk.WorldACL(zk.PermAll))
		for i := 0; i < nodes; i++ {
			c.Create(fmt.Sprintf("/zkload/n%d", i), make([]byte, 128), 0, zk.WorldACL(zk.PermAll))
		}
	case "run":
		fmt.Printf("ops/s %.0f\n", run(*addr, *clients, time.Duration(*secs)*time.Second))
	default:
		fmt.Fprintln(os.Stderr, "unknown command", os.Args[1])
		os.Exit(2)
	}
}

func dial(addr string) *zk.Conn {
	c, ev, err := zk.Connect([]string{addr}, 30*time.Second, zk.WithLogInfo(false))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for e := range ev {
		if e.State == zk.StateHasSession {
			break
		}
	}
	return c
}

// run drives the sessions for d and returns completed operations per second.
func run(addr string, clients int, d time.Duration) float64 {
	var ops atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	conns := make([]*zk.Conn, clients)
	for i := range conns {
		conns[i] = dial(addr)
	}
	start := time.Now()
	deadline := start.Add(d)
	for i, c := range conns {
		wg.Add(1)
		go func(i int, c *zk.Conn) {
			defer wg.Done()
			for n := 0; time.Now().Before(deadline); n++ {
				p := fmt.Sprintf("/zkload/n%d", (i+n)%nodes)
				var err error
				switch {
				case n%20 == 19:
					_, err = c.Set(p, make([]byte, 128), -1)
				case n%2 == 0:
					_, _, err = c.Get(p)
				default:
					_, _, err = c.Exists(p)
				}
				if err != nil {
					failed.Add(1)
					continue
				}
				ops.Add(1)
			}
		}(i, c)
	}
	wg.Wait()
	el := time.Since(start)
	for _, c := range conns {
		c.Close()
	}
	if f := failed.Load(); f > 0 {
		fmt.Fprintf(os.Stderr, "zkload: %d operations failed\n", f)
	}
	return float64(ops.Load()) / el.Seconds()
}
