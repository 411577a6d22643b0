package headertometadata

import (
	"regexp"

	"github.com/sluice-proxy/sluice/config"
)

// Config is Envoy's envoy.extensions.filters.http.header_to_metadata.v3.Config;
// a route's typed_per_filter_config entry of the same type replaces it.
type Config struct {
	RequestRules  []Rule `yaml:"request_rules" json:"request_rules,omitempty"`
	ResponseRules []Rule `yaml:"response_rules" json:"response_rules,omitempty"`
}

// Rule is Envoy's Config.Rule: one header (or cookie) and what to put in
// the metadata when it is present or missing.
type Rule struct {
	Header          string        `yaml:"header" json:"header,omitempty"`
	Cookie          string        `yaml:"cookie" json:"cookie,omitempty"`
	OnHeaderPresent *KeyValuePair `yaml:"on_header_present" json:"on_header_present,omitempty"`
	OnHeaderMissing *KeyValuePair `yaml:"on_header_missing" json:"on_header_missing,omitempty"`
	// Remove takes the header off the message once read.
	Remove bool `yaml:"remove" json:"remove,omitempty"`
}

// KeyValuePair is Envoy's Config.KeyValuePair.
type KeyValuePair struct {
	// MetadataNamespace defaults to envoy.filters.http.header_to_metadata.
	MetadataNamespace string `yaml:"metadata_namespace" json:"metadata_namespace,omitempty"`
	Key               string `yaml:"key" json:"key"`
	// Value is written instead of the header's value (required for
	// on_header_missing).
	Value string `yaml:"value" json:"value,omitempty"`
	// RegexValueRewrite rewrites the header's value; an empty result is
	// not written.
	RegexValueRewrite *config.RegexMatchAndSubstitute `yaml:"regex_value_rewrite" json:"regex_value_rewrite,omitempty"`
	// Type is STRING (default), NUMBER or PROTOBUF_VALUE (a serialized
	// google.protobuf.Value).
	Type string `yaml:"type" json:"type,omitempty"`
	// Encode is NONE (default) or BASE64: the value is base64 and decoded
	// first.
	Encode string `yaml:"encode" json:"encode,omitempty"`
}

// Validate checks what Envoy's proto validation and filter check.
func (c *Config) Validate(path string, errs *config.Errors) {
	if len(c.RequestRules) == 0 && len(c.ResponseRules) == 0 {
		errs.Add(path, "set request_rules or response_rules")
	}
	for i := range c.RequestRules {
		c.RequestRules[i].validate(config.Index(config.Join(path, "request_rules"), i), errs)
	}
	for i := range c.ResponseRules {
		r := &c.ResponseRules[i]
		rp := config.Index(config.Join(path, "response_rules"), i)
		r.validate(rp, errs)
		if r.Cookie != "" {
			errs.Add(config.Join(rp, "cookie"), "cookies are read from requests only")
		}
	}
}

func (r *Rule) validate(path string, errs *config.Errors) {
	if (r.Header == "") == (r.Cookie == "") {
		errs.Add(path, "set exactly one of header, cookie")
	}
	if r.Cookie != "" && r.Remove {
		errs.Add(config.Join(path, "remove"), "cannot remove a cookie")
	}
	if r.OnHeaderPresent == nil && r.OnHeaderMissing == nil {
		errs.Add(path, "set on_header_present or on_header_missing")
	}
	if kv := r.OnHeaderPresent; kv != nil {
		kv.validate(config.Join(path, "on_header_present"), errs)
	}
	if kv := r.OnHeaderMissing; kv != nil {
		kp := config.Join(path, "on_header_missing")
		kv.validate(kp, errs)
		if kv.Value == "" {
			errs.Add(config.Join(kp, "value"), "required: a missing header has no value to copy")
		}
	}
}

func (kv *KeyValuePair) validate(path string, errs *config.Errors) {
	if kv.Key == "" {
		errs.Add(config.Join(path, "key"), "required")
	}
	if kv.Value != "" && kv.RegexValueRewrite != nil {
		errs.Add(path, "set at most one of value, regex_value_rewrite")
	}
	if rw := kv.RegexValueRewrite; rw != nil {
		if _, err := regexp.Compile(rw.Pattern.Regex); err != nil {
			errs.Add(config.Join(path, "regex_value_rewrite.pattern.regex"), "%v", err)
		}
	}
	switch kv.Type {
	case "", "STRING", "NUMBER", "PROTOBUF_VALUE":
	default:
		errs.Add(config.Join(path, "type"), "must be STRING, NUMBER or PROTOBUF_VALUE, got %q", kv.Type)
	}
	switch kv.Encode {
	case "", "NONE", "BASE64":
	default:
		errs.Add(config.Join(path, "encode"), "must be NONE or BASE64, got %q", kv.Encode)
	}
}
