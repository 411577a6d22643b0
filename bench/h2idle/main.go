// Command h2idle opens N HTTP/2 (h2c, prior knowledge) connections, makes one
// request on each, prints "ready" and keeps them open and idle until killed:
// bench/http.sh measures the proxy's memory per idle HTTP/2 connection with it.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"

	"golang.org/x/net/http2"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "h2c address")
	n := flag.Int("n", 1000, "connections")
	flag.Parse()
	tr := &http2.Transport{AllowHTTP: true}
	conns := make([]*http2.ClientConn, 0, *n)
	for i := 0; i < *n; i++ {
		c, err := net.Dial("tcp", *addr)
		if err != nil {
			log.Fatalf("connection %d: %v", i, err)
		}
		cc, err := tr.NewClientConn(c)
		if err != nil {
			log.Fatalf("connection %d: %v", i, err)
		}
		req, _ := http.NewRequest("GET", "http://"+*addr+"/", nil)
		resp, err := cc.RoundTrip(req)
		if err != nil {
			log.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		conns = append(conns, cc)
	}
	fmt.Println("ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	<-sig
	for _, cc := range conns {
		cc.Close()
	}
}
