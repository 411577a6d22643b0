package redis

import (
	"bufio"
	"fmt"
	"github.com/sluice-proxy/sluice/cluster/lb"
	"testing"

	"github.com/sluice-proxy/sluice/codec/redis"
)

// benchPipeline sends b.N GET/SET commands in pipelines of depth through
// one client of the proxy to a loopback fake upstream and reads the replies.
func benchPipeline(b *testing.B, depth int) {
	f := startFake(b)
	p, _ := newTestProxy(b, f.addr(), nil)
	cli, _ := serveClient(b, p)
	var batch []byte
	for i := 0; i < depth; i++ {
		if i%2 == 0 {
			batch = redis.AppendCommandString(batch, "SET", fmt.Sprintf("key:%d", i), "value")
		} else {
			batch = redis.AppendCommandString(batch, "GET", fmt.Sprintf("key:%d", i-1))
		}
	}
	br := bufio.NewReaderSize(cli, 64<<10)
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n += depth {
		if _, err := cli.Write(batch); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < depth; i++ {
			line, err := br.ReadSlice('\n')
			if err != nil {
				b.Fatal(err)
			}
			if line[0] == '$' {
				if _, err := br.ReadSlice('\n'); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

func BenchmarkProxyPipeline1(b *testing.B)  { benchPipeline(b, 1) }
func BenchmarkProxyPipeline16(b *testing.B) { benchPipeline(b, 16) }

func BenchmarkKeyHash(b *testing.B) {
	key := []byte("user:1234567:profile")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		lb.MurmurHash2(key)
	}
}

func BenchmarkRouterMatch(b *testing.B) {
	r := newRouter([]*route{{prefix: []byte("user:")}, {prefix: []byte("session:")}, {prefix: []byte("cache:")}}, &route{}, false)
	key := []byte("session:abcdef")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.match(key)
	}
}
