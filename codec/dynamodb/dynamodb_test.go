package dynamodb

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestOperation(t *testing.T) {
	for in, want := range map[string]string{"DynamoDB_20120810.GetItem": "GetItem", "GetItem": "", "a.b.c": "", ".x": "", "": ""} {
		if got := Operation(in); got != want {
			t.Errorf("Operation(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		op, body string
		want     Table
	}{
		{"GetItem", `{"TableName":"users","Key":{"id":{"S":"1"}}}`, Table{Name: "users"}},
		{"BatchWriteItem", `{"RequestItems":{"a":[],"a2":[]}}`, Table{Multiple: true}},
		{"BatchGetItem", `{"RequestItems":{"a":{"Keys":[]}}}`, Table{Name: "a"}},
		{"TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"x"}},{"Update":{"TableName":"x"}}]}`, Table{Name: "x"}},
		{"TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"x"}},{"Delete":{"TableName":"y"}}]}`, Table{Multiple: true}},
		{"ListTables", `{}`, Table{}},
		{"GetItem", `{"TableName":5}`, Table{}},
	} {
		got, err := ParseRequest(tc.op, []byte(tc.body), MaxBody)
		if err != nil || got != tc.want {
			t.Errorf("%s %s: got %+v, %v; want %+v", tc.op, tc.body, got, err, tc.want)
		}
	}
	if _, err := ParseRequest("GetItem", []byte(`{"TableName":`), MaxBody); err == nil {
		t.Error("truncated JSON accepted")
	}
	if _, err := ParseRequest("GetItem", []byte(`{"TableName":"t"}`), 4); err != ErrTooLarge {
		t.Errorf("bound: %v", err)
	}
}

func TestParseResponse(t *testing.T) {
	got, err := ParseResponse([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`), MaxBody)
	if err != nil || got.ErrorType != "ConditionalCheckFailedException" || !got.HasType {
		t.Fatalf("%+v %v", got, err)
	}
	got, _ = ParseResponse([]byte(`{"__type":"x#Unknown"}`), MaxBody)
	if got.ErrorType != "" || !got.HasType {
		t.Fatalf("unknown type: %+v", got)
	}
	got, _ = ParseResponse([]byte(`{"UnprocessedKeys":{"b":{},"a":{}},"ConsumedCapacity":{"Partitions":{"partition_1234567":1.2,"p":3}}}`), MaxBody)
	want := Response{Unprocessed: []string{"a", "b"}, Partitions: []Partition{{"partition_1234567", 2}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v want %+v", got, want)
	}
}

// TestCaptures: the captured SDK/dynalite exchanges parse as expected.
func TestCaptures(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for file, want := range map[string]Table{"PutItem-req-b.json": {Name: "users"}, "BatchWriteItem-req-d.json": {Name: "users"},
		"BatchGetItem-req-e.json": {Name: "users"}, "Query-req-f.json": {Name: "users"}, "GetItem-req-g.json": {Name: "nope"}} {
		op, _, _ := strings.Cut(file, "-")
		if got, err := ParseRequest(op, read(file), MaxBody); err != nil || got != want {
			t.Errorf("%s: %+v %v, want %+v", file, got, err, want)
		}
	}
	for file, want := range map[string]string{"PutItem-resp-c.json": "ConditionalCheckFailedException", "GetItem-resp-g.json": "ResourceNotFoundException"} {
		if got, err := ParseResponse(read(file), MaxBody); err != nil || got.ErrorType != want {
			t.Errorf("%s: %+v %v", file, got, err)
		}
	}
}

// FuzzParse: any body, either way, is parsed or refused without panicking;
// seeded with the captured exchanges in testdata.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	if len(files) == 0 {
		f.Fatal("no seeds")
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		op, _, _ := strings.Cut(filepath.Base(p), "-")
		f.Add(op, b)
	}
	f.Add("TransactWriteItems", []byte(`{"TransactItems":[{"Put":{"TableName":"x"}}]}`))
	f.Fuzz(func(t *testing.T, op string, body []byte) {
		tb, err := ParseRequest(op, body, MaxBody)
		if err == nil && tb.Multiple && tb.Name != "" {
			t.Fatalf("multiple tables with a name: %+v", tb)
		}
		r, err := ParseResponse(body, MaxBody)
		if err == nil && r.ErrorType != "" && !r.HasType {
			t.Fatal("error type without __type")
		}
		for _, p := range r.Partitions {
			if len(p.ID) < 7 {
				t.Fatalf("short partition id %q", p.ID)
			}
		}
	})
}
