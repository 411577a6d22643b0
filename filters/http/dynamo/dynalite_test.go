package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.uber.org/goleak"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func sluiceFor(t testing.TB, upstream, filters string) *sluicetest.Sluice {
	t.Helper()
	return sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - http_connection_manager:
          stat_prefix: ingress
          route_config:
            virtual_hosts:
              - name: all
                domains: ["*"]
                routes: [{match: {prefix: "/"}, route: {cluster: c}}]
          http_filters: %s
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
`, filters, upstream))
}

// client is aws-sdk-go-v2's DynamoDB client pointed at addr, without retries
// so each call is one request.
func client(addr string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		BaseEndpoint:     aws.String("http://" + addr),
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		RetryMaxAttempts: 1,
	})
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// waitStats polls until every expected counter has its value, then fails
// listing the ones that differ.
func waitStats(t *testing.T, s *sluicetest.Sluice, want map[string]uint64) {
	t.Helper()
	diff := func() string {
		var out []string
		for k, v := range want {
			if got := s.Counter(k); got != v {
				out = append(out, fmt.Sprintf("%s = %d, want %d", k, got, v))
			}
		}
		sort.Strings(out)
		return strings.Join(out, "\n")
	}
	poll.Eventually(t, 10*time.Second, func() bool { return diff() == "" }, "stats:\n%s", func() any { return diff() })
}

// TestDynalite drives dynalite through sluice with the SDK's client and
// checks Envoy's stats exactly.
func TestDynalite(t *testing.T) {
	d := testenv.Dynalite(t)
	s := sluiceFor(t, d.Addr(), "[{dynamo: {}}, {router: {}}]")
	c := client(s.Addr("l"))
	ctx := context.Background()

	for _, name := range []string{"users", "orders"} {
		_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String(name),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
			BillingMode:          types.BillingModePayPerRequest,
		})
		if err != nil {
			t.Fatalf("CreateTable %s: %v", name, err)
		}
	}
	for _, id := range []string{"u1", "u2"} {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("users"),
			Item: map[string]types.AttributeValue{"id": str(id), "name": str("n-" + id)}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("users"), Key: map[string]types.AttributeValue{"id": str("u1")}})
	if err != nil || got.Item["name"].(*types.AttributeValueMemberS).Value != "n-u1" {
		t.Fatalf("GetItem: %v %v", got, err)
	}
	q, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("users"), KeyConditionExpression: aws.String("id = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": str("u2")}})
	if err != nil || q.Count != 1 {
		t.Fatalf("Query: %v %v", q, err)
	}
	if sc, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("users")}); err != nil || sc.Count != 2 {
		t.Fatalf("Scan: %v %v", sc, err)
	}
	put := func(id string) types.WriteRequest {
		return types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"id": str(id)}}}
	}
	bw, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"users": {put("u3"), put("u4")}}})
	if err != nil || len(bw.UnprocessedItems) != 0 {
		t.Fatalf("BatchWriteItem: %v %v", bw, err)
	}
	if _, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		"users": {put("u5")}, "orders": {put("o1")}}}); err != nil {
		t.Fatalf("BatchWriteItem on two tables: %v", err)
	}
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("users"), Item: map[string]types.AttributeValue{"id": str("u1")},
		ConditionExpression: aws.String("attribute_not_exists(id)")})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("conditional put: %v", err)
	}
	_, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("nope"), Key: map[string]types.AttributeValue{"id": str("x")}})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Fatalf("missing table: %v", err)
	}

	p := "http.ingress.dynamodb."
	waitStats(t, s, map[string]uint64{
		p + "operation.CreateTable.upstream_rq_total":     2,
		p + "operation.CreateTable.upstream_rq_total_200": 2,
		p + "operation.PutItem.upstream_rq_total":         3,
		p + "operation.PutItem.upstream_rq_total_2xx":     2,
		p + "operation.PutItem.upstream_rq_total_200":     2,
		p + "operation.PutItem.upstream_rq_total_4xx":     1,
		p + "operation.PutItem.upstream_rq_total_400":     1,
		p + "operation.GetItem.upstream_rq_total":         2,
		p + "operation.GetItem.upstream_rq_total_400":     1,
		p + "operation.Query.upstream_rq_total_200":       1,
		p + "operation.Scan.upstream_rq_total_200":        1,
		p + "operation.BatchWriteItem.upstream_rq_total":  2,
		p + "table.users.upstream_rq_total":               8, // create, 3 puts, get, query, scan, one-table batch
		p + "table.users.upstream_rq_total_2xx":           7,
		p + "table.users.upstream_rq_total_400":           1,
		p + "table.orders.upstream_rq_total":              1,
		p + "table.nope.upstream_rq_total_400":            1,
		p + "multiple_tables":                             1,
		p + "error.users.ConditionalCheckFailedException": 1,
		p + "error.nope.ResourceNotFoundException":        1,
		p + "operation_missing":                           0,
		p + "table_missing":                               0,
		p + "invalid_req_body":                            0,
		p + "invalid_resp_body":                           0,
		p + "error.users.BatchFailureUnprocessedKeys":     0,
	})
}

// TestSignedDynalite: aws_request_signing in front of dynamo re-signs the
// SDK's requests (buffering and hashing the body) on their way to dynalite;
// both filters count.
func TestSignedDynalite(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDPROXY")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "proxy-secret")
	d := testenv.Dynalite(t)
	s := sluiceFor(t, d.Addr(), "[{aws_request_signing: {service_name: dynamodb, region: us-east-1}}, {dynamo: {}}, {router: {}}]")
	c := client(s.Addr("l"))
	if _, err := c.ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("absent")}); err == nil {
		t.Fatal("DescribeTable of a missing table succeeded")
	}
	waitStats(t, s, map[string]uint64{
		"http.ingress.aws_request_signing.signing_added":                   2,
		"http.ingress.aws_request_signing.payload_signing_added":           2,
		"http.ingress.dynamodb.operation.ListTables.upstream_rq_total_200": 1,
		"http.ingress.dynamodb.table_missing":                              1,
		"http.ingress.dynamodb.error.absent.ResourceNotFoundException":     1,
	})
}
