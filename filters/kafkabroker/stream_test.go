package kafkabroker

import (
	"bytes"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	kcodec "github.com/sluice-proxy/sluice/codec/kafka"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/stats"
)

// fakeConn is a downstream connection over buffers: Read returns in, Write
// appends to out.
type fakeConn struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (c *fakeConn) Read(p []byte) (int, error)       { return c.in.Read(p) }
func (c *fakeConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *fakeConn) Close() error                     { return nil }
func (c *fakeConn) CloseWrite() error                { return nil }
func (c *fakeConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *fakeConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *fakeConn) SetDeadline(time.Time) error      { return nil }
func (c *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(time.Time) error { return nil }

var _ filters.Conn = (*fakeConn)(nil)

func testFilter(t testing.TB, cfg *Config) *Filter {
	t.Helper()
	f, err := New(cfg, &filters.Env{Stats: stats.New().Root(), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// reqFrame encodes a request frame.
func reqFrame(req kmsg.Request, corr int32) []byte {
	h := kcodec.RequestHeader{APIKey: req.Key(), APIVersion: req.GetVersion(), CorrelationID: corr, ClientID: []byte("t")}
	b := kcodec.AppendRequestHeader(make([]byte, 4, 128), &h)
	b = req.AppendTo(b)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// respFrame encodes a response frame.
func respFrame(resp kmsg.Response, corr int32) []byte {
	return kcodec.AppendResponseFrame(nil, resp.Key(), resp.GetVersion(), corr, resp.AppendTo(nil))
}

func metadataPair(corr int32) (req, resp []byte) {
	q := kmsg.NewPtrMetadataRequest()
	q.SetVersion(9)
	r := kmsg.NewPtrMetadataResponse()
	r.SetVersion(9)
	for id := int32(0); id < 3; id++ {
		b := kmsg.NewMetadataResponseBroker()
		b.NodeID, b.Host, b.Port = id, "broker", 9092+id
		r.Brokers = append(r.Brokers, b)
	}
	return reqFrame(q, corr), respFrame(r, corr)
}

func apiVersionsPair(corr int32) (req, resp []byte) {
	q := kmsg.NewPtrApiVersionsRequest()
	q.SetVersion(3)
	r := kmsg.NewPtrApiVersionsResponse()
	r.SetVersion(3)
	k := kmsg.NewApiVersionsResponseApiKey()
	k.ApiKey, k.MaxVersion = 3, 12
	r.ApiKeys = append(r.ApiKeys, k)
	return reqFrame(q, corr), respFrame(r, corr)
}

// session is a conversation: the client's request stream and the broker's
// response stream.
type session struct{ reqs, resps []byte }

func testSession() session {
	var s session
	for corr := int32(1); corr <= 6; corr++ {
		pair := apiVersionsPair
		if corr%2 == 0 {
			pair = metadataPair
		}
		q, r := pair(corr)
		s.reqs = append(s.reqs, q...)
		s.resps = append(s.resps, r...)
	}
	return s
}

// run passes the session through a conn of f, reading requests in chunks of
// readSize and writing responses in chunks of the sizes in cuts (cycled), and
// returns what reached the broker and the client.
func run(t testing.TB, f *Filter, s session, readSize int, cuts []int) (toBroker, toClient []byte, err error) {
	fc := &fakeConn{in: bytes.NewReader(s.reqs)}
	k := newConn(f, &filters.Session{Log: slog.New(slog.DiscardHandler)}, fc)
	buf := make([]byte, readSize)
	for {
		n, rerr := k.Read(buf)
		toBroker = append(toBroker, buf[:n]...)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return toBroker, fc.out.Bytes(), rerr
		}
	}
	rest := s.resps
	for i := 0; len(rest) > 0; i++ {
		n := min(len(rest), max(1, cuts[i%len(cuts)]))
		if _, werr := k.Write(rest[:n]); werr != nil {
			return toBroker, fc.out.Bytes(), werr
		}
		if len(k.out.held) > maxHeld {
			t.Fatalf("held %d broker bytes, bound %d", len(k.out.held), maxHeld)
		}
		rest = rest[n:]
	}
	return toBroker, fc.out.Bytes(), nil
}

func rewriteAll(int32, string, int32) (string, int32) { return "sluice", 1 }

// wantRewritten is the response stream with every Metadata response's
// brokers advertised as sluice:1.
func wantRewritten(t testing.TB, resps []byte) []byte {
	var out []byte
	for len(resps) > 0 {
		size := int(binary.BigEndian.Uint32(resps))
		body := resps[4 : 4+size]
		corr := int32(binary.BigEndian.Uint32(body))
		if corr%2 == 0 {
			_, hl, err := kcodec.DecodeResponseHeader(body, kcodec.ResponseHeaderVersion(3, 9))
			if err != nil {
				t.Fatal(err)
			}
			nb, err := kcodec.RewriteMetadata(9, body[hl:], rewriteAll)
			if err != nil {
				t.Fatal(err)
			}
			out = kcodec.AppendResponseFrame(out, 3, 9, corr, nb)
		} else {
			out = append(out, resps[:4+size]...)
		}
		resps = resps[4+size:]
	}
	return out
}

func TestStreamChunking(t *testing.T) {
	s := testSession()
	rewritten := wantRewritten(t, s.resps)
	for _, tc := range []struct {
		name     string
		rewrite  bool
		readSize int
		cuts     []int
		want     []byte
	}{
		{"pass whole", false, 1 << 16, []int{1 << 20}, s.resps},
		{"pass bytewise", false, 64, []int{1}, s.resps},
		{"pass odd cuts", false, 64, []int{3, 7, 11}, s.resps},
		{"rewrite whole", true, 1 << 16, []int{1 << 20}, rewritten},
		{"rewrite bytewise", true, 64, []int{1}, rewritten},
		{"rewrite odd cuts", true, 65, []int{5, 2, 13, 8}, rewritten},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{StatPrefix: "t"}
			f := testFilter(t, cfg)
			if tc.rewrite {
				f.rewrite = rewriteAll
			}
			toBroker, toClient, err := run(t, f, s, tc.readSize, tc.cuts)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(toBroker, s.reqs) {
				t.Errorf("requests changed on the way to the broker")
			}
			if !bytes.Equal(toClient, tc.want) {
				t.Errorf("client got %d bytes, want %d", len(toClient), len(tc.want))
			}
			for _, api := range []int16{3, 18} {
				if v := f.stats.Request[api].Value(); v != 3 {
					t.Errorf("request %d count %d, want 3", api, v)
				}
				if v := f.stats.Response[api].Value(); v != 3 {
					t.Errorf("response %d count %d, want 3", api, v)
				}
			}
		})
	}
}

// TestRefusedInOrder refuses ApiVersions: its error responses must sit
// between the Metadata responses in request order whatever the chunking.
func TestRefusedInOrder(t *testing.T) {
	s := testSession()
	var brokerSide session
	var want []byte
	for corr := int32(1); corr <= 6; corr++ {
		if corr%2 == 1 {
			q, _ := apiVersionsPair(corr)
			e, err := kcodec.ErrorResponse(18, 3, corr, q[4+len(kcodec.AppendRequestHeader(nil, &kcodec.RequestHeader{APIKey: 18, APIVersion: 3, ClientID: []byte("t")})):], kcodec.ErrCodeClusterAuthorizationFailed)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, e...)
			continue
		}
		q, r := metadataPair(corr)
		brokerSide.reqs = append(brokerSide.reqs, q...)
		brokerSide.resps = append(brokerSide.resps, r...)
		want = append(want, r...)
	}
	for _, cuts := range [][]int{{1 << 20}, {1}, {7, 3}} {
		f := testFilter(t, &Config{StatPrefix: "t", APIKeysDenied: []uint32{18}})
		toBroker, toClient, err := run(t, f, session{reqs: s.reqs, resps: brokerSide.resps}, 64, cuts)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(toBroker, brokerSide.reqs) {
			t.Errorf("cuts %v: refused requests reached the broker", cuts)
		}
		if !bytes.Equal(toClient, want) {
			t.Errorf("cuts %v: client stream differs (%d bytes, want %d)", cuts, len(toClient), len(want))
		}
	}
}

// TestLargeResponseStreams passes a 4 MiB Fetch response through in 4 KiB
// writes: nothing of it is held back (run checks the bound after each write)
// and it arrives unchanged, rewrite on or off.
func TestLargeResponseStreams(t *testing.T) {
	q := kmsg.NewPtrFetchRequest()
	q.SetVersion(11)
	r := kmsg.NewPtrFetchResponse()
	r.SetVersion(11)
	rt := kmsg.NewFetchResponseTopic()
	rt.Topic = "big"
	rp := kmsg.NewFetchResponseTopicPartition()
	rp.RecordBatches = bytes.Repeat([]byte{7}, 4<<20)
	rt.Partitions = append(rt.Partitions, rp)
	r.Topics = append(r.Topics, rt)
	s := session{reqs: reqFrame(q, 1), resps: respFrame(r, 1)}
	for _, rewrite := range []bool{false, true} {
		f := testFilter(t, &Config{StatPrefix: "t"})
		if rewrite {
			f.rewrite = rewriteAll
		}
		_, toClient, err := run(t, f, s, 4096, []int{4096})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(toClient, s.resps) {
			t.Fatalf("rewrite=%v: fetch response changed (%d bytes, want %d)", rewrite, len(toClient), len(s.resps))
		}
	}
}

func TestPublishedMetadata(t *testing.T) {
	s := testSession()
	f := testFilter(t, &Config{StatPrefix: "t"})
	sess := &filters.Session{Log: slog.New(slog.DiscardHandler)}
	k := newConn(f, sess, &fakeConn{in: bytes.NewReader(s.reqs)})
	buf := make([]byte, 1024)
	for {
		if _, err := k.Read(buf); err != nil {
			break
		}
	}
	sess.RunOnClose()
	v, ok := sess.Metadata(MetadataNamespace)
	md, _ := v.(Metadata)
	if !ok || md.ClientID != "t" || strings.Join(md.APIs, ",") != "metadata,api_versions" {
		t.Fatalf("metadata %+v", v)
	}
	if got := sess.AccessSnapshot().Fields["kafka_client_id"]; got != "t" {
		t.Fatalf("access log field kafka_client_id = %v", got)
	}
}
