package pg

import (
	"strings"

	pgquery "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluice-proxy/sluice/sqlmeta"
)

// walker visits a statement's AST through protobuf reflection, so that
// every node kind is descended into (subqueries in expressions, joins,
// lateral functions, CTE bodies) without a case per node type. The node
// types that name a written table are handled explicitly; every other table
// reference (a RangeVar) is read, hence select.
type walker struct {
	st   sqlmeta.Statement
	ctes map[string]bool // CTE names in the statement: not tables
}

// collectCTEs records the names of every WITH query in the statement. A CTE
// name shadows an unqualified table of that name in the whole statement,
// which is wider than SQL's scoping; a query that uses a CTE name for a real
// table elsewhere in the same statement is not worth the scope tracking.
func (w *walker) collectCTEs(m protoreflect.Message) {
	if cte, ok := m.Interface().(*pgquery.CommonTableExpr); ok {
		w.ctes[cte.GetCtename()] = true
	}
	eachChild(m, nil, func(c protoreflect.Message) { w.collectCTEs(c) })
}

// walk records the tables under m, with op for plain table references.
func (w *walker) walk(m protoreflect.Message, op sqlmeta.Op) {
	skip := targetFields
	switch n := m.Interface().(type) {
	case *pgquery.RangeVar:
		w.table(n, op)
		return
	case *pgquery.InsertStmt:
		w.table(n.GetRelation(), sqlmeta.OpInsert)
	case *pgquery.UpdateStmt:
		w.table(n.GetRelation(), sqlmeta.OpUpdate)
	case *pgquery.DeleteStmt:
		w.table(n.GetRelation(), sqlmeta.OpDelete)
	case *pgquery.MergeStmt:
		for _, c := range n.GetMergeWhenClauses() {
			w.table(n.GetRelation(), cmdOp(c.GetMergeWhenClause().GetCommandType()))
		}
	case *pgquery.CopyStmt:
		if n.GetIsFrom() {
			w.table(n.GetRelation(), sqlmeta.OpInsert)
		} else {
			w.table(n.GetRelation(), sqlmeta.OpSelect)
		}
	case *pgquery.CreateStmt:
		w.table(n.GetRelation(), sqlmeta.OpCreate)
	case *pgquery.IntoClause: // CREATE TABLE AS, SELECT INTO, CREATE MATERIALIZED VIEW
		w.table(n.GetRel(), sqlmeta.OpCreate)
	case *pgquery.ViewStmt:
		w.table(n.GetView(), sqlmeta.OpCreate)
	case *pgquery.IndexStmt:
		w.table(n.GetRelation(), sqlmeta.OpCreate)
	case *pgquery.AlterTableStmt:
		w.table(n.GetRelation(), sqlmeta.OpAlter)
	case *pgquery.RenameStmt:
		w.table(n.GetRelation(), sqlmeta.OpAlter)
	case *pgquery.TruncateStmt:
		for _, r := range n.GetRelations() {
			w.table(r.GetRangeVar(), sqlmeta.OpTruncate)
		}
		return
	case *pgquery.DropStmt:
		w.drop(n)
		return
	default:
		skip = nil
	}
	eachChild(m, skip, func(c protoreflect.Message) { w.walk(c, sqlmeta.OpSelect) })
}

// targetFields are the fields handled by walk's cases, not descended into.
var targetFields = map[protoreflect.Name]bool{"relation": true, "rel": true, "view": true, "relations": true}

// cmdOp maps a MERGE action to the operation it performs.
func cmdOp(c pgquery.CmdType) sqlmeta.Op {
	switch c {
	case pgquery.CmdType_CMD_INSERT:
		return sqlmeta.OpInsert
	case pgquery.CmdType_CMD_DELETE:
		return sqlmeta.OpDelete
	}
	return sqlmeta.OpUpdate
}

// droppable are the DROP object types whose names are tables or table-like.
var droppable = map[pgquery.ObjectType]bool{
	pgquery.ObjectType_OBJECT_TABLE: true, pgquery.ObjectType_OBJECT_VIEW: true,
	pgquery.ObjectType_OBJECT_MATVIEW: true, pgquery.ObjectType_OBJECT_SEQUENCE: true,
	pgquery.ObjectType_OBJECT_INDEX: true, pgquery.ObjectType_OBJECT_FOREIGN_TABLE: true,
}

// drop records DROP TABLE a, s.b as drop on each name.
func (w *walker) drop(n *pgquery.DropStmt) {
	if !droppable[n.GetRemoveType()] {
		return
	}
	for _, obj := range n.GetObjects() {
		var parts []string
		for _, p := range obj.GetList().GetItems() {
			parts = append(parts, p.GetString_().GetSval())
		}
		if len(parts) > 0 {
			w.st.Add(strings.Join(parts, "."), sqlmeta.OpDrop)
		}
	}
}

// table records op on the table r names, unless it names a CTE.
func (w *walker) table(r *pgquery.RangeVar, op sqlmeta.Op) {
	if r == nil || r.GetRelname() == "" {
		return
	}
	name := r.GetRelname()
	if r.GetSchemaname() == "" && w.ctes[name] {
		return
	}
	if s := r.GetSchemaname(); s != "" {
		name = s + "." + name
	}
	if c := r.GetCatalogname(); c != "" {
		name = c + "." + name
	}
	w.st.Add(name, op)
}

// eachChild calls fn for every message directly under m, except the fields
// named in skip.
func eachChild(m protoreflect.Message, skip map[protoreflect.Name]bool, fn func(protoreflect.Message)) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if skip[fd.Name()] || fd.Kind() != protoreflect.MessageKind {
			return true
		}
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				fn(l.Get(i).Message())
			}
			return true
		}
		if fd.IsMap() {
			return true
		}
		fn(v.Message())
		return true
	})
}
