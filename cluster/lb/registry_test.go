package lb

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestRegistryNames(t *testing.T) {
	want := []string{LeastRequestName, MaglevName, RandomName, RingHashName, RoundRobinName}
	if got := Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	for _, n := range want {
		p, err := New(n, nil)
		if err != nil {
			t.Fatalf("New(%q, nil): %v", n, err)
		}
		if p.Name() != n {
			t.Errorf("New(%q).Name() = %q", n, p.Name())
		}
	}
}

func TestRegisterPanics(t *testing.T) {
	ok := Factory{Name: "x", NewConfig: func() Config { return &RandomConfig{} },
		New: func(Config) (Policy, error) { return &Random{}, nil }}
	tests := []struct {
		name string
		f    Factory
	}{
		{"duplicate", Factory{Name: RoundRobinName, NewConfig: ok.NewConfig, New: ok.New}},
		{"empty name", Factory{NewConfig: ok.NewConfig, New: ok.New}},
		{"nil New", Factory{Name: "y", NewConfig: ok.NewConfig}},
		{"nil NewConfig", Factory{Name: "z", New: ok.New}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("Register did not panic")
				}
			}()
			Register(tt.f)
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name    string
		policy  string
		cfg     Config
		wantErr string
	}{
		{"unknown", "fastest", nil, `unknown policy "fastest"`},
		{"wrong config type", RingHashName, &MaglevConfig{TableSize: 7}, "config is *lb.MaglevConfig"},
		{"nil typed config", MaglevName, (*MaglevConfig)(nil), "nil config"},
		{"invalid", MaglevName, &MaglevConfig{TableSize: 8}, "table_size: must be a prime number, got 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.policy, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config
		wantFields []string // nil: valid
	}{
		{"round_robin", DefaultRoundRobinConfig(), nil},
		{"random", DefaultRandomConfig(), nil},
		{"least_request defaults", DefaultLeastRequestConfig(), nil},
		{"choice_count 1", &LeastRequestConfig{ChoiceCount: 1, ActiveRequestBias: 1}, []string{"choice_count"}},
		{"negative bias", &LeastRequestConfig{ChoiceCount: 2, ActiveRequestBias: -1}, []string{"active_request_bias"}},
		{"ring defaults", DefaultRingHashConfig(), nil},
		{"murmur", &RingHashConfig{MinimumRingSize: 1, MaximumRingSize: 1, HashFunction: HashMurmur2}, nil},
		{"min > max", &RingHashConfig{MinimumRingSize: 20, MaximumRingSize: 10, HashFunction: HashXX}, []string{"minimum_ring_size"}},
		{"max too big", &RingHashConfig{MinimumRingSize: 1, MaximumRingSize: DefaultMaxRingSize + 1, HashFunction: HashXX}, []string{"maximum_ring_size"}},
		{"zero sizes, bad hash", &RingHashConfig{HashFunction: "MD5"}, []string{"minimum_ring_size", "maximum_ring_size", "hash_function"}},
		{"maglev default", DefaultMaglevConfig(), nil},
		{"maglev 7", &MaglevConfig{TableSize: 7}, nil},
		{"maglev limit", &MaglevConfig{TableSize: MaxMaglevTableSize}, nil},
		{"maglev 65536", &MaglevConfig{TableSize: 65536}, []string{"table_size"}},
		{"maglev 1", &MaglevConfig{TableSize: 1}, []string{"table_size"}},
		{"maglev too big", &MaglevConfig{TableSize: 5000101}, []string{"table_size"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			var got []string
			for _, e := range flatten(err) {
				var fe *FieldError
				if !errors.As(e, &fe) {
					t.Fatalf("error %v is not a *FieldError", e)
				}
				got = append(got, fe.Field)
			}
			if !slices.Equal(got, tt.wantFields) {
				t.Errorf("invalid fields = %v, want %v (err: %v)", got, tt.wantFields, err)
			}
		})
	}
}

func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestIsPrime(t *testing.T) {
	var got []uint64
	for n := range uint64(40) {
		if isPrime(n) {
			got = append(got, n)
		}
	}
	want := []uint64{2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}
	if !slices.Equal(got, want) {
		t.Errorf("primes below 40 = %v, want %v", got, want)
	}
	if !isPrime(DefaultMaglevTableSize) || !isPrime(MaxMaglevTableSize) || isPrime(65537*3) {
		t.Error("isPrime wrong on the maglev table sizes")
	}
}

func TestEmptyAndSingle(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			p := mustPolicy(t, name, nil)
			if got := mustBuild(t, p, nil).Pick(1, true); got != -1 {
				t.Errorf("empty Pick = %d, want -1", got)
			}
			one := mustBuild(t, p, weighted(7))
			for h := range uint64(50) {
				if got := one.Pick(splitmix(h), h%2 == 0); got != 0 {
					t.Fatalf("single-host Pick = %d, want 0", got)
				}
			}
		})
	}
}

func TestHashKey(t *testing.T) {
	tests := []struct {
		name                 string
		addr, host, override string
		useHostname          bool
		want                 string
	}{
		{"address", "10.0.0.1:6379", "redis-a", "", false, "10.0.0.1:6379"},
		{"hostname", "10.0.0.1:6379", "redis-a", "", true, "redis-a"},
		{"hostname missing", "10.0.0.1:6379", "", "", true, "10.0.0.1:6379"},
		{"metadata override wins", "10.0.0.1:6379", "redis-a", "shard-1", true, "shard-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HashKey(tt.addr, tt.host, tt.override, tt.useHostname); got != tt.want {
				t.Errorf("HashKey = %q, want %q", got, tt.want)
			}
		})
	}
}
