package accesslog

import (
	"net/http"
	"testing"
)

func TestGRPCStatus(t *testing.T) {
	for _, c := range []struct {
		format          string
		header, trailer string
		want            string
	}{
		{"%GRPC_STATUS%", "", "14", "Unavailable"},
		{"%GRPC_STATUS(CAMEL_STRING)%", "", "1", "Canceled"},
		{"%GRPC_STATUS(SNAKE_STRING)%", "", "1", "CANCELLED"},
		{"%GRPC_STATUS(NUMBER)%", "", "4", "4"},
		{"%GRPC_STATUS%", "5", "", "NotFound"}, // trailers-only
		{"%GRPC_STATUS%", "5", "0", "OK"},      // trailers win
		{"%GRPC_STATUS%", "", "", "-"},
		{"%GRPC_STATUS%", "", "42", "42"},
		{"%GRPC_STATUS%", "", "x", "-"},
	} {
		f, err := Compile(c.format)
		if err != nil {
			t.Fatal(err)
		}
		r := &Record{RespHeader: http.Header{}, RespTrailer: http.Header{}}
		if c.header != "" {
			r.RespHeader.Set("Grpc-Status", c.header)
		}
		if c.trailer != "" {
			r.RespTrailer.Set("Grpc-Status", c.trailer)
		}
		if got := string(f.Append(nil, r)); got != c.want {
			t.Errorf("%s with header %q trailer %q: got %q, want %q", c.format, c.header, c.trailer, got, c.want)
		}
	}
	if _, err := Compile("%GRPC_STATUS(LOUD)%"); err == nil {
		t.Fatal("GRPC_STATUS(LOUD) compiled")
	}
}
