package mysql

import "testing"

func TestClassify(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{name: "select", input: "SELECT 1", want: "select"},
		{name: "lower case and spaces", input: "  \n\tselect * from t", want: "select"},
		{name: "parenthesized union", input: "(SELECT 1) UNION (SELECT 2)", want: "select"},
		{name: "cte", input: "WITH x AS (SELECT 1) SELECT * FROM x", want: "select"},
		{name: "insert", input: "INSERT INTO t VALUES (1)", want: "insert"},
		{name: "replace", input: "replace into t values (1)", want: "insert"},
		{name: "update", input: "UPDATE t SET a = 1", want: "update"},
		{name: "delete", input: "DELETE FROM t", want: "delete"},
		{name: "block comment", input: "/* app:42 */ DELETE FROM t", want: "delete"},
		{name: "line comments", input: "-- hi\n# there\nUPDATE t SET a=1", want: "update"},
		{name: "dash without space is not a comment", input: "--1", want: "other"},
		{name: "executable comment", input: "/*!40101 SELECT 1 */", want: "select"},
		{name: "unterminated comment", input: "/* SELECT", want: "other"},
		{name: "ddl", input: "CREATE TABLE t (a INT)", want: "other"},
		{name: "prefix is not the keyword", input: "SELECTED", want: "other"},
		{name: "empty", input: "", want: "other"},
		{name: "leading semicolon", input: ";SELECT 1", want: "select"},
	}
	for _, tt := range tests {
		if got := Classify(tt.input); got != tt.want {
			t.Errorf("%s: Classify(%q) = %q, want %q", tt.name, tt.input, got, tt.want)
		}
	}
}
