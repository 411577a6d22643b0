package headertometadata

import (
	"encoding/base64"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/sluice-proxy/sluice/config"
)

// FuzzConvert feeds header values through every type and encoding and a
// regex rewrite: nothing may panic and nothing over 8 KiB is written.
// Seeds are values the tests send (a version, a number, a base64
// google.protobuf.Value as a client would encode it).
func FuzzConvert(f *testing.F) {
	pb, _ := proto.Marshal(structpb.NewStringValue("gold"))
	f.Add("v12.3")
	f.Add("42.5")
	f.Add(base64.StdEncoding.EncodeToString(pb))
	var rules []rule
	for _, typ := range []string{"STRING", "NUMBER", "PROTOBUF_VALUE"} {
		for _, enc := range []string{"NONE", "BASE64"} {
			kv := &KeyValuePair{Key: "k", Type: typ, Encode: enc}
			rules = append(rules, rule{present: compilePair(kv)})
		}
	}
	rw := &KeyValuePair{Key: "v", RegexValueRewrite: &config.RegexMatchAndSubstitute{Pattern: config.SafeRegex{Regex: `^v(\d+)\..*$`}, Substitution: `\1`}}
	rules = append(rules, rule{present: compilePair(rw)})
	f.Fuzz(func(t *testing.T, v string) {
		for i := range rules {
			for _, e := range rules[i].apply(v, true) {
				if s, ok := e.v.(string); ok && len(s) > maxValue {
					t.Fatalf("%d bytes written", len(s))
				}
			}
		}
	})
}
