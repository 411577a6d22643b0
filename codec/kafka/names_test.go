package kafka

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestApiName(t *testing.T) {
	tests := []struct {
		name string
		key  int16
		want string
	}{
		{"produce", 0, "produce"},
		{"list offsets", 2, "list_offsets"},
		{"lowercase acronym isr", 4, "leader_and_isr"},
		{"sasl", 17, "sasl_handshake"},
		{"api versions", 18, "api_versions"},
		{"producer id", 22, "init_producer_id"},
		{"acls", 29, "describe_acls"},
		{"scram", 50, "describe_user_scram_credentials"},
		{"reassignments, not kmsg's assignments", 45, "alter_partition_reassignments"},
		{"describe cluster", 60, "describe_cluster"},
		{"negative", -1, ""},
		{"beyond table", MaxAPIKey + 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ApiName(tt.key); got != tt.want {
				t.Errorf("ApiName(%d) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}

// TestApiNameCoversKmsg checks that every key kmsg knows has a name and
// that the table knows no key kmsg does not.
func TestApiNameCoversKmsg(t *testing.T) {
	for k := int16(0); k <= MaxAPIKey+5; k++ {
		known := kmsg.RequestForKey(k) != nil
		if named := ApiName(k) != ""; named != known {
			t.Errorf("key %d (%s): named %v, known to kmsg %v", k, kmsg.NameForKey(k), named, known)
		}
		if KnownAPI(k) != known {
			t.Errorf("KnownAPI(%d) = %v, want %v", k, KnownAPI(k), known)
		}
	}
}
