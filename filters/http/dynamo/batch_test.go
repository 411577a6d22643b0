package dynamo_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestDynaliteUnprocessedKeys: dynalite answers a BatchGetItem whose items
// add up to more than 1 MiB with the rest as UnprocessedKeys (its
// actions/batchGetItem.js stops at 1 MiB plus one item, as DynamoDB stops
// at 16 MB); sluice counts Envoy's error.<table>.BatchFailureUnprocessedKeys
// for each table with unprocessed keys. ReturnConsumedCapacity makes
// dynalite add ConsumedCapacity (a list for batches, an object without
// Partitions for single-table calls): Envoy's per-partition capacity stats
// come only from ConsumedCapacity.Partitions, which neither dynalite nor
// public DynamoDB sends, so none may appear and the bodies must still parse.
func TestDynaliteUnprocessedKeys(t *testing.T) {
	d := testenv.Dynalite(t)
	// The batch answer is ~1.2 MB: the parse bound must hold it.
	s := sluiceFor(t, d.Addr(), "[{dynamo: {max_body_bytes: 4194304}}, {router: {}}]")
	c := client(s.Addr("l"))
	ctx := context.Background()
	for _, name := range []string{"blobs", "small"} {
		if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String(name),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
			BillingMode:          types.BillingModePayPerRequest,
		}); err != nil {
			t.Fatalf("CreateTable %s: %v", name, err)
		}
	}
	// Four items of ~390 KB (dynalite's item limit is 400 KB): three fit
	// under 1 MiB + 400 KB, the fourth is left unprocessed whatever order
	// dynalite shuffles them in.
	blob := strings.Repeat("b", 390*1024)
	keys := []map[string]types.AttributeValue{}
	for _, id := range []string{"b1", "b2", "b3", "b4"} {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("blobs"),
			Item: map[string]types.AttributeValue{"id": str(id), "data": str(blob)}}); err != nil {
			t.Fatalf("PutItem %s: %v", id, err)
		}
		keys = append(keys, map[string]types.AttributeValue{"id": str(id)})
	}
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("small"),
		Item: map[string]types.AttributeValue{"id": str("s1")}}); err != nil {
		t.Fatal(err)
	}

	out, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
		RequestItems:           map[string]types.KeysAndAttributes{"blobs": {Keys: keys}},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(out.UnprocessedKeys["blobs"].Keys); n != 1 || len(out.Responses["blobs"]) != 3 || len(out.ConsumedCapacity) != 1 {
		t.Fatalf("dynalite returned %d items, %d unprocessed, %d capacities", len(out.Responses["blobs"]), n, len(out.ConsumedCapacity))
	}
	// Two tables in one batch: the request names no single table
	// (multiple_tables), the unprocessed keys are still counted per table.
	out, err = c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		"blobs": {Keys: keys}, "small": {Keys: []map[string]types.AttributeValue{{"id": str("s1")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	// Whatever the table order, the small item fits and one blob does not.
	if len(out.UnprocessedKeys["blobs"].Keys) != 1 || len(out.UnprocessedKeys) != 1 {
		t.Fatalf("two-table batch: unprocessed %v", out.UnprocessedKeys)
	}
	// Single-table read with capacity: an object without Partitions.
	if g, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("small"), Key: map[string]types.AttributeValue{"id": str("s1")},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal}); err != nil || g.ConsumedCapacity == nil {
		t.Fatalf("GetItem: %v %v", g, err)
	}
	// BatchWriteItem: dynalite always answers "UnprocessedItems": {}
	// (actions/batchWriteItem.js line 18), so none are counted.
	if _, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		"small": {{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"id": str("s2")}}}}},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal}); err != nil {
		t.Fatal(err)
	}

	p := "http.ingress.dynamodb."
	waitStats(t, s, map[string]uint64{
		p + "operation.BatchGetItem.upstream_rq_total_200":   2,
		p + "table.blobs.upstream_rq_total_200":              6, // create, 4 puts, one-table batch
		p + "table.small.upstream_rq_total_200":              4, // create, put, get, batch write
		p + "multiple_tables":                                1,
		p + "error.blobs.BatchFailureUnprocessedKeys":        2,
		p + "error.small.BatchFailureUnprocessedKeys":        0,
		p + "invalid_resp_body":                              0,
		p + "invalid_req_body":                               0,
		p + "operation.BatchWriteItem.upstream_rq_total_200": 1,
	})
	if _, body := s.AdminGet("/stats"); strings.Contains(body, ".capacity.") || !strings.Contains(body, "BatchFailureUnprocessedKeys") {
		t.Fatalf("capacity stats without Partitions in any answer, or no stats:\n%s", body)
	}
}
