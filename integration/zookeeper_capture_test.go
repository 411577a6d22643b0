package integration

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	zkc "github.com/sluice-proxy/sluice/codec/zookeeper"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

var zkUpdate = flag.Bool("zk-update", false, "capture a real ZooKeeper session into codec/zookeeper/testdata")

// captureDir holds the captured session, the seeds of codec/zookeeper's
// FuzzDecoder.
var captureDir = filepath.Join("..", "codec", "zookeeper", "testdata")

// tapRelay relays one connection to server and records both directions.
type tapRelay struct {
	ln             net.Listener
	mu             sync.Mutex
	client, server bytes.Buffer
	done           sync.WaitGroup
}

func newTapRelay(t *testing.T, server string) *tapRelay {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &tapRelay{ln: ln}
	r.done.Add(1)
	go func() {
		defer r.done.Done()
		down, err := ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", server)
		if err != nil {
			down.Close()
			return
		}
		var wg sync.WaitGroup
		wg.Add(2)
		pipe := func(dst, src net.Conn, rec *bytes.Buffer) {
			defer wg.Done()
			buf := make([]byte, 32<<10)
			for {
				n, err := src.Read(buf)
				if n > 0 {
					r.mu.Lock()
					rec.Write(buf[:n])
					r.mu.Unlock()
					dst.Write(buf[:n])
				}
				if err != nil {
					dst.(*net.TCPConn).CloseWrite()
					return
				}
			}
		}
		go pipe(up, down, &r.client)
		go pipe(down, up, &r.server)
		wg.Wait()
		up.Close()
		down.Close()
	}()
	return r
}

// TestZooKeeperCapture records a go-zookeeper session against ZooKeeper 3.8 (with
// -zk-update) and checks that every captured frame decodes, in both
// directions, to the end.
func TestZooKeeperCapture(t *testing.T) {
	if *zkUpdate {
		srv := testenv.ZooKeeper(t)
		r := newTapRelay(t, srv.Addr())
		c, ev, err := zk.Connect([]string{r.ln.Addr().String()}, 10*time.Second, zk.WithLogInfo(false))
		if err != nil {
			t.Fatal(err)
		}
		waitState(t, ev, zk.StateHasSession)
		base := fmt.Sprintf("/capture-%d", time.Now().UnixNano())
		must(c.Create(base, []byte("v1"), 0, acl))
		must(c.Create(base+"/e", nil, zk.FlagEphemeral|zk.FlagSequence, acl))
		must2(c.Get(base))
		must(c.Set(base, []byte("v2"), -1))
		must2(c.Children(base))
		must2(c.Exists(base + "/missing"))
		must(c.Multi(&zk.CreateRequest{Path: base + "/m", Acl: acl}, &zk.CheckVersionRequest{Path: base, Version: 1}))
		must2(c.GetACL(base))
		must(c.Sync(base))
		if err := c.AddAuth("digest", []byte("user:pass")); err != nil {
			t.Fatal(err)
		}
		direct := connect(t, srv.Addr(), nil)
		_, _, w, _ := c.GetW(base)
		must(direct.Set(base, []byte("v3"), -1))
		<-w
		c.Delete(base+"/m", -1)
		c.Close()
		r.done.Wait()
		r.ln.Close()
		os.MkdirAll(captureDir, 0o755)
		if err := os.WriteFile(filepath.Join(captureDir, "session.client"), r.client.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(captureDir, "session.server"), r.server.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cl, err := os.ReadFile(filepath.Join(captureDir, "session.client"))
	if err != nil {
		t.Fatalf("%v (capture it with go test ./integration -run TestZooKeeperCapture -zk-update)", err)
	}
	sv, err := os.ReadFile(filepath.Join(captureDir, "session.server"))
	if err != nil {
		t.Fatal(err)
	}
	ops := map[zkc.Opcode]int{}
	rd := zkc.NewRequestDecoder(zkc.Config{})
	if err := rd.Feed(cl, func(r *zkc.Request) error { ops[r.Op]++; return nil }); err != nil || rd.Mid() {
		t.Fatalf("client stream: %v (mid frame: %v)", err, rd.Mid())
	}
	for _, op := range []zkc.Opcode{zkc.OpConnect, zkc.OpCreate, zkc.OpGetData, zkc.OpSetData, zkc.OpGetChildren2,
		zkc.OpExists, zkc.OpMulti, zkc.OpGetACL, zkc.OpSync, zkc.OpSetAuth, zkc.OpDelete, zkc.OpClose} {
		if ops[op] == 0 {
			t.Errorf("no %v in the capture", op)
		}
	}
	events, replies := 0, 0
	sd := zkc.NewResponseDecoder(zkc.Config{})
	if err := sd.Feed(sv, func(r *zkc.Response) error {
		if r.Event {
			events++
		} else {
			replies++
		}
		return nil
	}); err != nil || sd.Mid() {
		t.Fatalf("server stream: %v (mid frame: %v)", err, sd.Mid())
	}
	total := 0
	for _, n := range ops {
		total += n
	}
	if events != 1 || replies != total {
		t.Fatalf("%d events, %d replies for %d requests", events, replies, total)
	}
}
