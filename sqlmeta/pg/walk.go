package pg

import (
	"strings"

	"github.com/sluice-proxy/sluice/sqlmeta"
)

// walker visits a statement's JSON parse tree generically, so that every
// node kind is descended into (subqueries in expressions, joins, lateral
// functions, CTE bodies) without a case per node type. The node types that
// name a written table are handled explicitly; every other table reference
// (a RangeVar) is read, hence select.
type walker struct {
	st   sqlmeta.Statement
	ctes map[string]bool // CTE names in the statement: not tables
}

// collectCTEs records the names of every WITH query in the statement. A CTE
// name shadows an unqualified table of that name in the whole statement,
// which is wider than SQL's scoping; a query that uses a CTE name for a real
// table elsewhere in the same statement is not worth the scope tracking.
func (w *walker) collectCTEs(v any) {
	if typ, body, ok := node(v); ok && typ == "CommonTableExpr" {
		w.ctes[body.str("ctename")] = true
	}
	eachChild(v, nil, w.collectCTEs)
}

// walk records the tables under v: a node, a bare struct, a list or a
// scalar (ignored).
func (w *walker) walk(v any) {
	o, ok := v.(object)
	if !ok {
		eachChild(v, nil, w.walk)
		return
	}
	if isRangeVar(o) { // a bare RangeVar field not handled by its parent
		w.table(o, sqlmeta.OpSelect)
		return
	}
	typ, n, ok := node(o)
	if !ok {
		w.fields(o, nil)
		return
	}
	skip := targetFields
	switch typ {
	case "RangeVar":
		w.table(n, sqlmeta.OpSelect)
		return
	case "InsertStmt":
		w.table(n.obj("relation"), sqlmeta.OpInsert)
	case "UpdateStmt":
		w.table(n.obj("relation"), sqlmeta.OpUpdate)
	case "DeleteStmt":
		w.table(n.obj("relation"), sqlmeta.OpDelete)
	case "MergeStmt":
		for _, c := range n.list("mergeWhenClauses") {
			_, mc, _ := node(c)
			w.table(n.obj("relation"), cmdOp(mc.str("commandType")))
		}
	case "CopyStmt":
		if n.get("is_from") == true {
			w.table(n.obj("relation"), sqlmeta.OpInsert)
		} else {
			w.table(n.obj("relation"), sqlmeta.OpSelect)
		}
	case "CreateStmt", "IndexStmt":
		w.table(n.obj("relation"), sqlmeta.OpCreate)
	case "IntoClause": // CREATE TABLE AS, SELECT INTO, CREATE MATERIALIZED VIEW
		w.table(n.obj("rel"), sqlmeta.OpCreate)
	case "ViewStmt":
		w.table(n.obj("view"), sqlmeta.OpCreate)
	case "AlterTableStmt", "RenameStmt":
		w.table(n.obj("relation"), sqlmeta.OpAlter)
	case "TruncateStmt":
		for _, r := range n.list("relations") {
			_, rv, _ := node(r)
			w.table(rv, sqlmeta.OpTruncate)
		}
		return
	case "DropStmt":
		w.drop(n)
		return
	default:
		skip = nil
	}
	w.fields(n, skip)
}

// fields walks a node's or struct's fields except those in skip. An
// IntoClause is a bare struct under intoClause (SELECT INTO) or into
// (CREATE TABLE AS), so it is recognised by its field name.
func (w *walker) fields(o object, skip map[string]bool) {
	for _, f := range o {
		switch {
		case skip[f.key]:
		case f.key == "intoClause" || f.key == "into":
			if into, ok := f.val.(object); ok {
				w.walk(object{{key: "IntoClause", val: into}})
			}
		default:
			w.walk(f.val)
		}
	}
}

// targetFields are the fields handled by walk's cases, not descended into.
var targetFields = map[string]bool{"relation": true, "rel": true, "view": true, "relations": true}

// isRangeVar reports whether a bare object is a RangeVar: relpersistence is
// RangeVar's own field and libpg_query always writes it.
func isRangeVar(o object) bool { return o.get("relpersistence") != nil }

// cmdOp maps a MERGE action to the operation it performs.
func cmdOp(c string) sqlmeta.Op {
	switch c {
	case "CMD_INSERT":
		return sqlmeta.OpInsert
	case "CMD_DELETE":
		return sqlmeta.OpDelete
	}
	return sqlmeta.OpUpdate
}

// droppable are the DROP object types whose names are tables or table-like.
var droppable = map[string]bool{
	"OBJECT_TABLE": true, "OBJECT_VIEW": true, "OBJECT_MATVIEW": true,
	"OBJECT_SEQUENCE": true, "OBJECT_INDEX": true, "OBJECT_FOREIGN_TABLE": true,
}

// drop records DROP TABLE a, s.b as drop on each name.
func (w *walker) drop(n object) {
	if !droppable[n.str("removeType")] {
		return
	}
	for _, obj := range n.list("objects") {
		_, l, _ := node(obj)
		var parts []string
		for _, p := range l.list("items") {
			_, s, _ := node(p)
			parts = append(parts, s.str("sval"))
		}
		if len(parts) > 0 {
			w.st.Add(strings.Join(parts, "."), sqlmeta.OpDrop)
		}
	}
}

// table records op on the table r names, unless it names a CTE.
func (w *walker) table(r object, op sqlmeta.Op) {
	name := r.str("relname")
	if name == "" {
		return
	}
	schema := r.str("schemaname")
	if schema == "" && w.ctes[name] {
		return
	}
	if schema != "" {
		name = schema + "." + name
	}
	if c := r.str("catalogname"); c != "" {
		name = c + "." + name
	}
	w.st.Add(name, op)
}

// eachChild calls fn for every value directly under v (an object's fields,
// a list's items), except the fields named in skip.
func eachChild(v any, skip map[string]bool, fn func(any)) {
	switch x := v.(type) {
	case object:
		for _, f := range x {
			if !skip[f.key] {
				fn(f.val)
			}
		}
	case []any:
		for _, e := range x {
			fn(e)
		}
	}
}
