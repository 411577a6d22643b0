package mysql

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/sluice-proxy/sluice/sqlmeta"
)

// walker collects the tables of a statement. Tables that a DML statement
// writes are marked in targets before the walk; every other table the walk
// meets is read (select), except CTE references and the alias lists of a
// multi-table DELETE.
type walker struct {
	db      string
	tables  map[string][]sqlmeta.Op
	targets map[*ast.TableName]sqlmeta.Op
	skip    map[*ast.TableName]bool
	ctes    map[string]bool
}

func newWalker(db string) *walker {
	return &walker{db: db, targets: map[*ast.TableName]sqlmeta.Op{}, skip: map[*ast.TableName]bool{},
		ctes: map[string]bool{}}
}

// name qualifies a table with its database.
func (w *walker) name(t *ast.TableName) string {
	db := t.Schema.O
	if db == "" {
		db = w.db
	}
	if db == "" {
		return t.Name.O
	}
	return db + "." + t.Name.O
}

// add records op on t.
func (w *walker) add(t *ast.TableName, op sqlmeta.Op) {
	if t == nil || t.Name.O == "" {
		return
	}
	st := sqlmeta.Statement{Tables: w.tables}
	st.Add(w.name(t), op)
	w.tables = st.Tables
}

// walk visits n: first to learn the CTE names, then to record tables. The
// written tables are recorded first so that their op leads their list.
func (w *walker) walk(n ast.Node) {
	for t, op := range w.targets {
		w.add(t, op)
	}
	n.Accept(cteCollector{w.ctes})
	n.Accept(w)
}

// Enter implements ast.Visitor.
func (w *walker) Enter(n ast.Node) (ast.Node, bool) {
	t, ok := n.(*ast.TableName)
	if !ok || w.skip[t] {
		return n, false
	}
	if op, ok := w.targets[t]; ok {
		w.add(t, op)
		return n, true
	}
	if t.Schema.O == "" && w.ctes[strings.ToLower(t.Name.O)] {
		return n, true
	}
	w.add(t, sqlmeta.OpSelect)
	return n, true
}

// Leave implements ast.Visitor.
func (w *walker) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// cteCollector records the names of common table expressions.
type cteCollector struct{ names map[string]bool }

func (c cteCollector) Enter(n ast.Node) (ast.Node, bool) {
	if cte, ok := n.(*ast.CommonTableExpression); ok {
		c.names[cte.Name.L] = true
	}
	return n, false
}

func (c cteCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// sources lists the table sources of a FROM/JOIN tree (not of subqueries).
func sources(refs *ast.TableRefsClause) []*ast.TableSource {
	if refs == nil {
		return nil
	}
	var out []*ast.TableSource
	var rec func(n ast.ResultSetNode)
	rec = func(n ast.ResultSetNode) {
		switch n := n.(type) {
		case *ast.Join:
			rec(n.Left)
			if n.Right != nil {
				rec(n.Right)
			}
		case *ast.TableSource:
			out = append(out, n)
		}
	}
	rec(refs.TableRefs)
	return out
}

// targetRefs marks every table of a FROM/JOIN tree as written with op.
func (w *walker) targetRefs(refs *ast.TableRefsClause, op sqlmeta.Op) {
	for _, s := range sources(refs) {
		if t, ok := s.Source.(*ast.TableName); ok {
			w.targets[t] = op
		}
	}
}

// matches reports whether a qualifier (alias or table name) names s.
func matches(s *ast.TableSource, qualifier string) bool {
	t, ok := s.Source.(*ast.TableName)
	if !ok {
		return false
	}
	if s.AsName.L != "" {
		return s.AsName.L == qualifier
	}
	return t.Name.L == qualifier
}

// updateTargets marks the tables an UPDATE assigns to. An unqualified
// column in a multi-table UPDATE could belong to any table: all are marked.
func (w *walker) updateTargets(n *ast.UpdateStmt) {
	srcs := sources(n.TableRefs)
	for _, a := range n.List {
		q := a.Column.Table.L
		for _, s := range srcs {
			if t, ok := s.Source.(*ast.TableName); ok && (q == "" || matches(s, q)) {
				w.targets[t] = sqlmeta.OpUpdate
			}
		}
	}
}

// deleteTargets marks the tables a DELETE removes rows from.
func (w *walker) deleteTargets(n *ast.DeleteStmt) {
	if !n.IsMultiTable || n.Tables == nil {
		w.targetRefs(n.TableRefs, sqlmeta.OpDelete)
		return
	}
	srcs := sources(n.TableRefs)
	for _, d := range n.Tables.Tables {
		w.skip[d] = true
		for _, s := range srcs {
			if matches(s, d.Name.L) {
				w.targets[s.Source.(*ast.TableName)] = sqlmeta.OpDelete
			}
		}
	}
}
