package httpfilter

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type tag string

func (t tag) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Add("X-Order", string(t))
		next.ServeHTTP(w, r)
	})
}

func TestChainOrder(t *testing.T) {
	var got string
	h := Chain([]Filter{tag("a"), tag("b")}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = strings.Join(r.Header.Values("X-Order"), ",")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if got != "a,b" {
		t.Fatalf("order %q, want a,b", got)
	}
}

func TestRegisterRefusesDuplicates(t *testing.T) {
	f := Factory{Name: "test.dup", NewConfig: func() any { return &struct{}{} }}
	Register(f)
	defer func() {
		if recover() == nil {
			t.Fatal("duplicate registration accepted")
		}
	}()
	Register(f)
}

func TestFlags(t *testing.T) {
	s := &Stream{}
	if s.Flags().String() != "-" {
		t.Fatalf("no flags: %q", s.Flags())
	}
	s.SetFlag(UpstreamRequestTimeout)
	s.SetFlag(NoHealthyUpstream)
	if got := s.Flags().String(); got != "UH,UT" {
		t.Fatalf("got %q", got)
	}
}
