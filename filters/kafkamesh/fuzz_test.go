package kafkamesh

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzHandle feeds arbitrary request frames to an offline mesh connection:
// it must answer or refuse each without panicking, and every answer must be
// one well-framed response to the request's correlation id.
func FuzzHandle(f *testing.F) {
	av := kmsg.NewPtrApiVersionsRequest()
	av.SetVersion(3)
	f.Add(frame(av, 1))
	md := kmsg.NewPtrMetadataRequest()
	md.SetVersion(9)
	md.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr("zeta")}}
	f.Add(frame(md, 2))
	pr := kmsg.NewPtrProduceRequest()
	pr.SetVersion(7)
	pr.Topics = []kmsg.ProduceRequestTopic{{Topic: "zeta", Partitions: []kmsg.ProduceRequestTopicPartition{{Partition: 3}}}}
	f.Add(frame(pr, 3))
	hb := kmsg.NewPtrJoinGroupRequest()
	hb.SetVersion(5)
	hb.Group = "g"
	f.Add(frame(hb, 4))
	mc := offlineConn(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := mc.handle(body)
		if err != nil || out == nil {
			return
		}
		if len(out) < 8 || int(uint32(out[0])<<24|uint32(out[1])<<16|uint32(out[2])<<8|uint32(out[3])) != len(out)-4 {
			t.Fatalf("badly framed response of %d bytes", len(out))
		}
		if string(out[4:8]) != string(body[4:8]) {
			t.Fatalf("response correlation id %x, request %x", out[4:8], body[4:8])
		}
	})
}

// TestWriteSeeds writes FuzzHandle's seed corpus with -update-seeds.
func TestWriteSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite testdata/fuzz")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzHandle")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.SetVersion(4)
	fc.CoordinatorKeys = []string{"g1"}
	lo := kmsg.NewPtrListOffsetsRequest()
	lo.SetVersion(4)
	lo.Topics = []kmsg.ListOffsetsRequestTopic{{Topic: "zeta", Partitions: []kmsg.ListOffsetsRequestTopicPartition{{Partition: 0}}}}
	for name, req := range map[string]kmsg.Request{"find_coordinator": fc, "list_offsets": lo} {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", frame(req, 5))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the fuzz seed corpora under testdata/fuzz")
