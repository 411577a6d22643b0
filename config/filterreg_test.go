package config_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/config"
)

// localFilters are filter types given to one parse only (ParseFilters), the
// way a test server knows its own filters without registering them.
var localFilters = []config.FilterType{
	{Name: "local_observer", NewConfig: func() any { return &struct{}{} }},
	{Name: "local_terminal", Terminal: true, NewConfig: func() any {
		return &struct {
			Say string `yaml:"say"`
		}{}
	}},
}

const localCfg = `
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - local_observer: {}
      - local_terminal: {say: hi}
`

// TestParseFiltersLocalTypes checks that filter types given to
// ParseFilters are decoded and order-checked, that Parse alone does not know
// them (nothing leaked into the registry), and that two parses of one
// config compare equal (the reload's listener_modified check).
func TestParseFiltersLocalTypes(t *testing.T) {
	a, err := config.ParseFilters("a.yaml", []byte(localCfg), localFilters)
	if err != nil {
		t.Fatal(err)
	}
	if got := reflect.ValueOf(a.Listeners[0].Filters[1].Config).Elem().Field(0).String(); got != "hi" {
		t.Errorf("local_terminal.say = %q", got)
	}
	b, err := config.ParseFilters("a.yaml", []byte(localCfg), localFilters)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Listeners[0], b.Listeners[0]) {
		t.Error("two parses of one listener differ")
	}
	if _, err := config.Parse("a.yaml", []byte(localCfg)); err == nil || !strings.Contains(err.Error(), `unknown filter "local_observer"`) {
		t.Errorf("Parse without the local types: %v", err)
	}
	swapped := strings.Replace(strings.Replace(localCfg, "local_observer: {}", "X", 1), "local_terminal: {say: hi}", "local_observer: {}", 1)
	swapped = strings.Replace(swapped, "X", "local_terminal: {}", 1)
	_, err = config.ParseFilters("a.yaml", []byte(swapped), localFilters)
	if err == nil || !strings.Contains(err.Error(), "listeners[0].filters[0].local_terminal") ||
		!strings.Contains(err.Error(), "a terminal filter must be the last of its chain") {
		t.Errorf("terminal first: %v", err)
	}
}
