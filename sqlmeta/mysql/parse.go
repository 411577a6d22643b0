package mysql

import (
	"fmt"
	"strings"
	"sync"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // literal values for the AST

	"github.com/sluice-proxy/sluice/sqlmeta"
)

// parsers pools TiDB parsers, which are not safe for concurrent use and
// costly to build.
var parsers = sync.Pool{New: func() any { return parser.New() }}

// Parse parses one or more statements and returns, for each, its kind and
// the tables it touches with their operations. Tables are named "db.table"
// when the statement names the database or currentDB is not empty, else
// "table"; a USE statement changes the database for the statements after
// it. Common table expressions are not tables. The error, if any, is a
// syntax error wrapped with context; nothing is returned with it.
//
// One NUL byte at the end of sql is dropped, as the server does: libmysql
// clients such as mysqlslap send it (their length counts the C string's
// terminator), and MariaDB takes it as the end of the text; a second NUL, or
// one elsewhere, is a syntax error there and here.
func Parse(sql, currentDB string) ([]sqlmeta.Statement, error) {
	sql = strings.TrimSuffix(sql, "\x00")
	p := parsers.Get().(*parser.Parser)
	// The nodes live in the parser's reused buffers: it goes back to the
	// pool only once they have been described.
	defer parsers.Put(p)
	nodes, _, err := p.ParseSQL(sql)
	if err != nil {
		return nil, fmt.Errorf("sqlmeta/mysql: parse: %w", err)
	}
	out := make([]sqlmeta.Statement, 0, len(nodes))
	for _, n := range nodes {
		st := describe(n, currentDB)
		if u, ok := n.(*ast.UseStmt); ok {
			currentDB = u.DBName
		}
		out = append(out, st)
	}
	return out, nil
}

// describe builds the Statement of one parsed statement.
func describe(n ast.StmtNode, db string) sqlmeta.Statement {
	w := newWalker(db)
	st := sqlmeta.Statement{Kind: kindOf(n)}
	switch n := n.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
		w.walk(n)
	case *ast.InsertStmt:
		w.targetRefs(n.Table, sqlmeta.OpInsert)
		w.walk(n)
	case *ast.UpdateStmt:
		w.updateTargets(n)
		w.walk(n)
	case *ast.DeleteStmt:
		w.deleteTargets(n)
		w.walk(n)
	case *ast.LoadDataStmt:
		w.add(n.Table, sqlmeta.OpInsert)
	case *ast.CreateTableStmt:
		w.add(n.Table, sqlmeta.OpCreate)
		if n.ReferTable != nil {
			w.add(n.ReferTable, sqlmeta.OpSelect)
		}
		if n.Select != nil {
			w.walk(n.Select)
		}
	case *ast.CreateViewStmt:
		w.add(n.ViewName, sqlmeta.OpCreate)
		w.walk(n.Select)
	case *ast.CreateIndexStmt:
		w.add(n.Table, sqlmeta.OpCreate)
	case *ast.DropTableStmt:
		for _, t := range n.Tables {
			w.add(t, sqlmeta.OpDrop)
		}
	case *ast.DropIndexStmt:
		w.add(n.Table, sqlmeta.OpDrop)
	case *ast.AlterTableStmt:
		w.add(n.Table, sqlmeta.OpAlter)
	case *ast.RenameTableStmt:
		for _, t := range n.TableToTables {
			w.add(t.OldTable, sqlmeta.OpAlter)
			w.add(t.NewTable, sqlmeta.OpAlter)
		}
	case *ast.TruncateTableStmt:
		w.add(n.Table, sqlmeta.OpTruncate)
	}
	st.Tables = w.tables
	return st
}

// kindOf names a statement's leading operation.
func kindOf(n ast.StmtNode) string {
	switch n := n.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
		return "select"
	case *ast.InsertStmt:
		if n.IsReplace {
			return "replace"
		}
		return "insert"
	case *ast.UpdateStmt:
		return "update"
	case *ast.DeleteStmt:
		return "delete"
	case *ast.CreateTableStmt, *ast.CreateViewStmt, *ast.CreateIndexStmt, *ast.CreateDatabaseStmt,
		*ast.CreateUserStmt, *ast.CreateSequenceStmt:
		return "create"
	case *ast.DropTableStmt, *ast.DropIndexStmt, *ast.DropDatabaseStmt, *ast.DropUserStmt,
		*ast.DropSequenceStmt:
		return "drop"
	case *ast.AlterTableStmt, *ast.AlterDatabaseStmt, *ast.AlterUserStmt, *ast.RenameTableStmt:
		return "alter"
	case *ast.TruncateTableStmt:
		return "truncate"
	case *ast.BeginStmt:
		return "begin"
	case *ast.CommitStmt:
		return "commit"
	case *ast.RollbackStmt:
		return "rollback"
	case *ast.SetStmt:
		return "set"
	case *ast.ShowStmt:
		return "show"
	case *ast.UseStmt:
		return "use"
	case *ast.ExplainStmt:
		return "explain"
	case *ast.LoadDataStmt:
		return "load"
	case *ast.CallStmt:
		return "call"
	case *ast.GrantStmt:
		return "grant"
	case *ast.RevokeStmt:
		return "revoke"
	}
	return "other"
}
