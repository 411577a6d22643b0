package pg

import (
	"fmt"

	"github.com/wasilibs/go-pgquery/parser"

	"github.com/sluice-proxy/sluice/sqlmeta"
)

// Parse parses a query string, which may hold several statements separated
// by semicolons, and returns one Statement per statement in order, with its
// Kind and the tables it touches. Table names are as written ("schema.table"
// when qualified), quoted identifiers keep their case and unquoted ones are
// folded to lower case, as the server does. A syntax error fails the whole
// string, as it does on the server.
func Parse(sql string) ([]sqlmeta.Statement, error) {
	// go-pgquery's parser package runs libpg_query compiled to WebAssembly,
	// or, built with -tags pgquery_cgo, pg_query_go's cgo libpg_query.
	js, err := parser.ParseToJSON(sql)
	if err != nil {
		return nil, fmt.Errorf("sqlmeta/pg: %w", err)
	}
	tree, err := decodeTree(js)
	if err != nil {
		return nil, fmt.Errorf("sqlmeta/pg: %w", err)
	}
	stmts := tree.list("stmts")
	out := make([]sqlmeta.Statement, 0, len(stmts))
	for _, raw := range stmts {
		r, _ := raw.(object)
		out = append(out, statement(r.get("stmt")))
	}
	return out, nil
}

// statement describes one parsed statement.
func statement(n any) sqlmeta.Statement {
	w := &walker{st: sqlmeta.Statement{Kind: kind(n)}, ctes: map[string]bool{}}
	w.collectCTEs(n)
	w.walk(n)
	return w.st
}

// kind is a statement's leading operation.
func kind(n any) string {
	typ, body, _ := node(n)
	switch typ {
	case "SelectStmt":
		if body.get("intoClause") != nil {
			return "create"
		}
		return "select"
	case "InsertStmt":
		return "insert"
	case "UpdateStmt":
		return "update"
	case "DeleteStmt":
		return "delete"
	case "MergeStmt":
		return "merge"
	case "CopyStmt":
		return "copy"
	case "CreateStmt", "CreateTableAsStmt", "ViewStmt", "IndexStmt", "CreateSchemaStmt", "CreateSeqStmt",
		"CreatedbStmt", "CreateFunctionStmt", "CreateRoleStmt":
		return "create"
	case "DropStmt", "DropdbStmt", "DropRoleStmt":
		return "drop"
	case "AlterTableStmt", "RenameStmt", "AlterSeqStmt", "AlterRoleStmt":
		return "alter"
	case "TruncateStmt":
		return "truncate"
	case "TransactionStmt":
		switch body.str("kind") {
		case "TRANS_STMT_BEGIN", "TRANS_STMT_START":
			return "begin"
		case "TRANS_STMT_COMMIT", "TRANS_STMT_COMMIT_PREPARED":
			return "commit"
		case "TRANS_STMT_ROLLBACK", "TRANS_STMT_ROLLBACK_TO", "TRANS_STMT_ROLLBACK_PREPARED":
			return "rollback"
		}
	case "VariableSetStmt":
		return "set"
	case "VariableShowStmt":
		return "show"
	case "ExplainStmt":
		return "explain"
	}
	return "other"
}
