package integration

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sluice-proxy/sluice/internal/testenv"
)

// smokeDynamoDB: examples/dynamodb.yaml in front of dynalite, driven by the
// SDK's DynamoDB client.
func smokeDynamoDB(t *testing.T, file string) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	d := testenv.Dynalite(t)
	s := startExample(t, file, map[string]string{"127.0.0.1:4567": d.Addr()})
	c := dynamodb.New(dynamodb.Options{BaseEndpoint: aws.String("http://" + s.Addr("dynamodb")), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("client", "client", ""), RetryMaxAttempts: 1})
	if _, err := c.ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatal(err)
	}
	s.WaitCounter("http.egress_dynamodb.dynamodb.operation.ListTables.upstream_rq_total_200", 1, 5*time.Second)
	s.WaitCounter("http.egress_dynamodb.aws_request_signing.signing_added", 1, 5*time.Second)
}
