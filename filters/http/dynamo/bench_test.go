package dynamo_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkDynamo posts GetItem requests through sluice to a Go upstream
// answering a GetItem-sized body, with the dynamo filter and with plain
// routing; bench/dynamo.sh compares against dynalite.
func BenchmarkDynamo(b *testing.B) {
	up, _ := startJSON(b, 200, `{"Item":{"id":{"S":"k1"},"v":{"S":"value"}}}`)
	for _, bc := range []struct{ name, filters string }{
		{"plain", "[{router: {}}]"},
		{"dynamo", "[{dynamo: {}}, {router: {}}]"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := sluiceFor(b, up, bc.filters)
			url := "http://" + s.Addr("l") + "/"
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			defer client.CloseIdleConnections()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest("POST", url, strings.NewReader(`{"TableName":"bench","Key":{"id":{"S":"k1"}}}`))
					req.Header.Set("X-Amz-Target", "DynamoDB_20120810.GetItem")
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		})
	}
}
