// Command mysqlabuse is the load tool of bench/mysql-abuse.sh: clients that
// misbehave towards a MySQL endpoint (issue 12).
//
//	mysqlabuse -mode garbage -addr A -n 1000   n sequential logins (go-mysql's client), each then sends
//	                                           garbage; prints the server's answers by kind
//	mysqlabuse -mode drip-handshake -addr A -n 200 -for 60s
//	                                           n clients read the greeting, then send one byte per second
//	mysqlabuse -mode drip-request -addr A -n 200 -for 60s
//	                                           n clients log in, then send a COM_QUERY one byte per second
//
// The drip modes print how long the connections stayed open (min, median,
// max) and how many were still open when -for ran out.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
)

func main() {
	mode := flag.String("mode", "garbage", "garbage, drip-handshake or drip-request")
	addr := flag.String("addr", "127.0.0.1:3306", "MySQL endpoint")
	n := flag.Int("n", 1000, "connections")
	limit := flag.Duration("for", 60*time.Second, "drip modes: give up after this long")
	flag.Parse()
	switch *mode {
	case "garbage":
		garbage(*addr, *n)
	case "drip-handshake", "drip-request":
		drip(*addr, *n, *limit, *mode == "drip-request")
	default:
		log.Fatalf("unknown mode %q", *mode)
	}
}

// kinds are the garbage sent after login, in turn.
var kinds = [][]byte{
	[]byte("GARBAGE GARBAGE GARBAGE\r\n"), // a header with sequence id 'B' and ~5 MB announced
	{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4},  // random header
	{3, 0, 0, 0, 0xee, 1, 2},              // a packet with an unknown command byte
	{2, 0, 0, 0, 0x17, 1},                 // COM_STMT_EXECUTE too short
}

func garbage(addr string, n int) {
	answers := map[string]int{}
	for i := 0; i < n; i++ {
		c, err := client.Connect(addr, "root", "", "")
		if err != nil {
			answers["login failed: "+err.Error()]++
			continue
		}
		nc := c.Conn.Conn
		nc.Write(kinds[i%len(kinds)])
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		answers[answer(nc)]++
		c.Close()
	}
	keys := make([]string, 0, len(answers))
	for k := range answers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("%6d  %s\n", answers[k], k)
	}
}

// answer reads one packet and names it: the ERR message, or what happened.
func answer(c net.Conn) string {
	hdr := make([]byte, 4)
	if _, err := io.ReadFull(c, hdr); err != nil {
		return "no answer: " + err.Error()
	}
	body := make([]byte, int(hdr[0])|int(hdr[1])<<8|int(hdr[2])<<16)
	if _, err := io.ReadFull(c, body); err != nil {
		return "short answer: " + err.Error()
	}
	if len(body) > 9 && body[0] == 0xff {
		return "ERR " + strings.TrimSpace(string(body[9:]))
	}
	return fmt.Sprintf("packet 0x%02x", body[0])
}

func drip(addr string, n int, limit time.Duration, afterLogin bool) {
	var mu sync.Mutex
	var held []time.Duration
	open := 0
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, closed := dripOne(addr, limit, afterLogin)
			mu.Lock()
			defer mu.Unlock()
			if !closed {
				open++
				return
			}
			held = append(held, d)
		}()
	}
	wg.Wait()
	sort.Slice(held, func(i, j int) bool { return held[i] < held[j] })
	fmt.Printf("clients %d, closed by the far side %d, still open after %v: %d\n", n, len(held), limit, open)
	if len(held) > 0 {
		fmt.Printf("held for: min %v, median %v, max %v\n", held[0].Round(time.Millisecond),
			held[len(held)/2].Round(time.Millisecond), held[len(held)-1].Round(time.Millisecond))
	}
}

// dripOne sends one byte a second of a message until the far side closes
// the connection or limit passes; it reports how long the connection was
// open and whether the far side closed it.
func dripOne(addr string, limit time.Duration, afterLogin bool) (time.Duration, bool) {
	start := time.Now()
	var nc net.Conn
	msg := append([]byte{60, 0, 0, 1}, make([]byte, 60)...) // a HandshakeResponse's size
	if afterLogin {
		c, err := client.Connect(addr, "root", "", "")
		if err != nil {
			return 0, false
		}
		defer c.Close()
		nc = c.Conn.Conn
		msg = append([]byte{60, 0, 0, 0, 0x03}, strings.Repeat("x", 59)...)
	} else {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return 0, false
		}
		defer c.Close()
		nc = c
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if answer(nc) == "" {
			return 0, false
		}
	}
	closed := make(chan struct{})
	go func() { // the far side closing shows as EOF on read
		nc.SetReadDeadline(time.Time{})
		io.Copy(io.Discard, nc)
		close(closed)
	}()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	deadline := time.After(limit)
	for i := 0; ; i++ {
		select {
		case <-closed:
			return time.Since(start), true
		case <-deadline:
			return time.Since(start), false
		case <-t.C:
			nc.Write(msg[i%len(msg) : i%len(msg)+1])
		}
	}
}
