// Package dynamodb reads what Envoy's DynamoDB filter needs from DynamoDB's
// JSON protocol: the operation (X-Amz-Target), the table a request is about
// (TableName, the RequestItems of batch operations, the TransactItems of
// transactions), and from a response the error type (__type), the tables
// with UnprocessedKeys and the consumed capacity per partition. It is pure
// (no I/O) and bounded: callers hand it at most MaxBody bytes of a body and
// the JSON is decoded by encoding/json, which limits nesting depth itself;
// values the filter does not need (item attributes) are skipped as raw
// bytes, never built into maps.
package dynamodb

import (
	"encoding/json"
	"errors"
	"math"
	"sort"
	"strings"
)

// MaxBody is the default bound on a body the filter parses: DynamoDB limits
// a request to 16 MiB, but stats need only its top-level keys, so larger
// bodies are passed on unparsed and counted.
const MaxBody = 1 << 20

// ErrTooLarge is returned for a body over the caller's bound.
var ErrTooLarge = errors.New("dynamodb: body over the parse bound")

var (
	singleTable = set("CreateTable", "DeleteItem", "DeleteTable", "DescribeTable", "GetItem", "PutItem",
		"Query", "Scan", "UpdateItem", "UpdateTable")
	batch    = set("BatchGetItem", "BatchWriteItem")
	transact = set("TransactGetItems", "TransactWriteItems")
	// transactItemOps are the members of a TransactItems entry, in the
	// order Envoy looks for a TableName in them.
	transactItemOps = []string{"ConditionCheck", "Delete", "Get", "Put", "Update"}
	// errorTypes are the __type suffixes Envoy counts (others are not
	// counted, so a server cannot mint stat names).
	errorTypes = []string{"AccessDeniedException", "ConditionalCheckFailedException",
		"IdempotentParameterMismatchException", "IncompleteSignatureException",
		"ItemCollectionSizeLimitExceededException", "LimitExceededException",
		"MissingAuthenticationTokenException", "ProvisionedThroughputExceededException",
		"ResourceInUseException", "ResourceNotFoundException", "ThrottlingException",
		"TransactionCanceledException", "TransactionInProgressException", "UnrecognizedClientException",
		"ValidationException", "InvalidSignatureException"}
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// Operation returns the operation of an X-Amz-Target value
// ("DynamoDB_20120810.GetItem" → "GetItem"), or "" when it is not
// Version.Operation.
func Operation(target string) string {
	parts := strings.Split(target, ".")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return ""
	}
	return parts[1]
}

// IsBatch reports whether op is BatchGetItem or BatchWriteItem.
func IsBatch(op string) bool { return batch[op] }

// Table is the table a request is about.
type Table struct {
	// Name is the table, "" when none or several.
	Name string
	// Multiple is set when a batch or transaction names several tables.
	Multiple bool
}

// ParseRequest returns the table of a request body for operation op.
func ParseRequest(op string, body []byte, limit int) (Table, error) {
	if len(body) > limit {
		return Table{}, ErrTooLarge
	}
	var req struct {
		TableName     json.RawMessage            `json:"TableName"`
		RequestItems  map[string]json.RawMessage `json:"RequestItems"`
		TransactItems []map[string]struct {
			TableName json.RawMessage `json:"TableName"`
		} `json:"TransactItems"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return Table{}, err
	}
	var t Table
	switch {
	case singleTable[op]:
		t.Name = str(req.TableName)
	case batch[op]:
		for name := range req.RequestItems {
			if t.Name == "" {
				t.Name = name
			} else if t.Name != name {
				return Table{Multiple: true}, nil
			}
		}
	case transact[op]:
		for _, item := range req.TransactItems {
			name := ""
			for _, k := range transactItemOps {
				if n := str(item[k].TableName); n != "" {
					name = n
					break
				}
			}
			switch {
			case name == "":
				return Table{}, nil
			case t.Name == "":
				t.Name = name
			case t.Name != name:
				return Table{Multiple: true}, nil
			}
		}
	}
	return t, nil
}

// str returns a JSON string's value, "" for anything else.
func str(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// Partition is one entry of ConsumedCapacity.Partitions.
type Partition struct {
	ID       string
	Capacity uint64 // rounded up, as Envoy counts it
}

// Response is what a response body says.
type Response struct {
	// ErrorType is the recognized __type suffix ("" when none).
	ErrorType string
	// HasType is set when __type was present (recognized or not).
	HasType bool
	// Unprocessed are the tables of UnprocessedKeys, sorted.
	Unprocessed []string
	Partitions  []Partition
}

// ParseResponse reads a response body.
func ParseResponse(body []byte, limit int) (Response, error) {
	if len(body) > limit {
		return Response{}, ErrTooLarge
	}
	var resp struct {
		Type             json.RawMessage            `json:"__type"`
		UnprocessedKeys  map[string]json.RawMessage `json:"UnprocessedKeys"`
		ConsumedCapacity json.RawMessage            `json:"ConsumedCapacity"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return Response{}, err
	}
	var out Response
	if t := str(resp.Type); t != "" {
		out.HasType = true
		for _, e := range errorTypes {
			if strings.HasSuffix(t, e) {
				out.ErrorType = e
				break
			}
		}
	}
	for name := range resp.UnprocessedKeys {
		out.Unprocessed = append(out.Unprocessed, name)
	}
	sort.Strings(out.Unprocessed)
	// ConsumedCapacity is an object for single-table operations (a list
	// for batches, which Envoy does not read per partition).
	var cc struct {
		Partitions map[string]float64 `json:"Partitions"`
	}
	if len(resp.ConsumedCapacity) > 0 && resp.ConsumedCapacity[0] == '{' && json.Unmarshal(resp.ConsumedCapacity, &cc) == nil {
		for id, c := range cc.Partitions {
			if len(id) < 7 || c < 0 || math.IsNaN(c) || c > math.MaxUint32 {
				continue
			}
			out.Partitions = append(out.Partitions, Partition{ID: id, Capacity: uint64(math.Ceil(c))})
		}
		sort.Slice(out.Partitions, func(i, j int) bool { return out.Partitions[i].ID < out.Partitions[j].ID })
	}
	return out, nil
}
