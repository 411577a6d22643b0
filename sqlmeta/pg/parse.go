package pg

import (
	"fmt"

	pgquery "github.com/pganalyze/pg_query_go/v6"

	"github.com/sluice-proxy/sluice/sqlmeta"
)

// Parse parses a query string, which may hold several statements separated
// by semicolons, and returns one Statement per statement in order, with its
// Kind and the tables it touches. Table names are as written ("schema.table"
// when qualified), quoted identifiers keep their case and unquoted ones are
// folded to lower case, as the server does. A syntax error fails the whole
// string, as it does on the server.
func Parse(sql string) ([]sqlmeta.Statement, error) {
	tree, err := parseTree(sql)
	if err != nil {
		return nil, fmt.Errorf("sqlmeta/pg: %w", err)
	}
	out := make([]sqlmeta.Statement, 0, len(tree.GetStmts()))
	for _, raw := range tree.GetStmts() {
		out = append(out, statement(raw.GetStmt()))
	}
	return out, nil
}

// statement describes one parsed statement.
func statement(n *pgquery.Node) sqlmeta.Statement {
	w := &walker{st: sqlmeta.Statement{Kind: kind(n)}, ctes: map[string]bool{}}
	w.collectCTEs(n.ProtoReflect())
	w.walk(n.ProtoReflect(), sqlmeta.OpSelect)
	return w.st
}

// kind is a statement's leading operation.
func kind(n *pgquery.Node) string {
	switch s := n.GetNode().(type) {
	case *pgquery.Node_SelectStmt:
		if s.SelectStmt.GetIntoClause() != nil {
			return "create"
		}
		return "select"
	case *pgquery.Node_InsertStmt:
		return "insert"
	case *pgquery.Node_UpdateStmt:
		return "update"
	case *pgquery.Node_DeleteStmt:
		return "delete"
	case *pgquery.Node_MergeStmt:
		return "merge"
	case *pgquery.Node_CopyStmt:
		return "copy"
	case *pgquery.Node_CreateStmt, *pgquery.Node_CreateTableAsStmt, *pgquery.Node_ViewStmt,
		*pgquery.Node_IndexStmt, *pgquery.Node_CreateSchemaStmt, *pgquery.Node_CreateSeqStmt,
		*pgquery.Node_CreatedbStmt, *pgquery.Node_CreateFunctionStmt, *pgquery.Node_CreateRoleStmt:
		return "create"
	case *pgquery.Node_DropStmt, *pgquery.Node_DropdbStmt, *pgquery.Node_DropRoleStmt:
		return "drop"
	case *pgquery.Node_AlterTableStmt, *pgquery.Node_RenameStmt, *pgquery.Node_AlterSeqStmt,
		*pgquery.Node_AlterRoleStmt:
		return "alter"
	case *pgquery.Node_TruncateStmt:
		return "truncate"
	case *pgquery.Node_TransactionStmt:
		switch s.TransactionStmt.GetKind() {
		case pgquery.TransactionStmtKind_TRANS_STMT_BEGIN, pgquery.TransactionStmtKind_TRANS_STMT_START:
			return "begin"
		case pgquery.TransactionStmtKind_TRANS_STMT_COMMIT, pgquery.TransactionStmtKind_TRANS_STMT_COMMIT_PREPARED:
			return "commit"
		case pgquery.TransactionStmtKind_TRANS_STMT_ROLLBACK, pgquery.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO,
			pgquery.TransactionStmtKind_TRANS_STMT_ROLLBACK_PREPARED:
			return "rollback"
		}
	case *pgquery.Node_VariableSetStmt:
		return "set"
	case *pgquery.Node_VariableShowStmt:
		return "show"
	case *pgquery.Node_ExplainStmt:
		return "explain"
	}
	return "other"
}
