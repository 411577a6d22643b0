package kafkabroker

import (
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/config"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		input   Config
		wantErr string
	}{
		{"minimal", Config{StatPrefix: "k"}, ""},
		{"no prefix", Config{}, "stat_prefix: required"},
		{"static rules", Config{StatPrefix: "k", IDBasedBrokerAddressRewriteSpec: &RewriteSpec{Rules: []RewriteRule{{ID: 0, Host: "h", Port: 1}}}}, ""},
		{"duplicate id", Config{StatPrefix: "k", IDBasedBrokerAddressRewriteSpec: &RewriteSpec{Rules: []RewriteRule{{ID: 1, Host: "h", Port: 1}, {ID: 1, Host: "h", Port: 2}}}}, "rules[1].id: broker id 1 has two rules"},
		{"no host", Config{StatPrefix: "k", IDBasedBrokerAddressRewriteSpec: &RewriteSpec{Rules: []RewriteRule{{ID: 1, Port: 1}}}}, "rules[0].host: required"},
		{"bad port", Config{StatPrefix: "k", IDBasedBrokerAddressRewriteSpec: &RewriteSpec{Rules: []RewriteRule{{ID: 1, Host: "h", Port: 70000}}}}, "rules[0].port: must be 1-65535"},
		{"both modes", Config{StatPrefix: "k", IDBasedBrokerAddressRewriteSpec: &RewriteSpec{}, BrokerAddressRewrite: &AutoRewrite{Auto: &Auto{BindHost: "127.0.0.1"}}}, "not both"},
		{"auto", Config{StatPrefix: "k", BrokerAddressRewrite: &AutoRewrite{Auto: &Auto{BindHost: "0.0.0.0", PortRangeStart: 19092}}}, ""},
		{"auto missing", Config{StatPrefix: "k", BrokerAddressRewrite: &AutoRewrite{}}, "broker_address_rewrite: needs auto"},
		{"auto bad bind", Config{StatPrefix: "k", BrokerAddressRewrite: &AutoRewrite{Auto: &Auto{BindHost: "example.com"}}}, "auto.bind_host: must be an IP address"},
		{"bad api key", Config{StatPrefix: "k", APIKeysDenied: []uint32{1, 40000}}, "api_keys_denied[1]: api key 40000 out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errs config.Errors
			tc.input.Validate("f", &errs)
			err := errs.Err()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestRefusedKeys(t *testing.T) {
	for _, tc := range []struct {
		name    string
		input   Config
		refused []int16
		allowed []int16
	}{
		{"nothing", Config{StatPrefix: "k"}, nil, []int16{0, 3, 18, 500}},
		{"denied", Config{StatPrefix: "k", APIKeysDenied: []uint32{19, 20}}, []int16{19, 20}, []int16{0, 3, 500}},
		{"allowed", Config{StatPrefix: "k", APIKeysAllowed: []uint32{3, 18}}, []int16{0, 19, 500, -1}, []int16{3, 18}},
		{"allowed and denied", Config{StatPrefix: "k", APIKeysAllowed: []uint32{3, 18}, APIKeysDenied: []uint32{18}}, []int16{18, 0}, []int16{3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := testFilter(t, &tc.input)
			for _, k := range tc.refused {
				if !f.isRefused(k) {
					t.Errorf("key %d allowed, want refused", k)
				}
			}
			for _, k := range tc.allowed {
				if f.isRefused(k) {
					t.Errorf("key %d refused, want allowed", k)
				}
			}
			if f.denying != (len(tc.refused) > 0) {
				t.Errorf("denying = %v", f.denying)
			}
		})
	}
}

func TestQueueOrder(t *testing.T) {
	var q queue
	for i := int32(1); i <= 20; i++ {
		e := entry{corr: i}
		if i%3 == 0 {
			e.inject = []byte{byte(i)}
		}
		if err := q.push(e); err != nil {
			t.Fatal(err)
		}
	}
	var got []byte
	for i := int32(1); i <= 20; i++ {
		if i%3 == 0 {
			continue
		}
		for _, b := range q.answered(i, nil) {
			got = append(got, b...)
		}
	}
	if want := []byte{3, 6, 9, 12, 15, 18}; string(got) != string(want) {
		t.Fatalf("injected in order %v, want %v", got, want)
	}
	if q.size != 0 || q.len() != 0 {
		t.Fatalf("queue not empty: %d/%d", q.size, q.len())
	}
}
