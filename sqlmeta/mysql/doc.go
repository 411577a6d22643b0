// Package mysql turns MySQL/MariaDB SQL text into sqlmeta.Statements: each
// statement's kind and the tables it touches ("db.table", qualified by the
// statement or the session's current database) with the operation on each.
// Classify is a cheap first-keyword classifier for when parsing is off.
//
// Grammar: github.com/pingcap/tidb/pkg/parser, a goyacc MySQL grammar. It
// was chosen over vitess.io/vitess/go/vt/sqlparser, measured on this machine
// (Go 1.26, linux/amd64, a main that parses one statement):
//
//   - module graph: the TiDB parser is already required by
//     github.com/go-mysql-org/go-mysql (codec/mysql's constants); vitess
//     would add vitess.io/vitess, a module of several hundred MB of source
//     with its own dependency tree.
//   - binary size: +19.1 MB (TiDB parser, 21.5 MB vs 2.4 MB for an empty
//     main) against +15.2 MB (vitess, 17.6 MB); both are dominated by the
//     generated parser tables.
//   - cold build (empty GOCACHE, std included, 2 shared cores): 87 s against
//     118 s (empty main: 11 s).
//
// Classify is hand-written because it must not pay for a parser: it skips
// whitespace and comments (running the code inside /*! ... */ comments, as
// the server does) and looks at the first keyword. AppendShape (the key of
// mysql_proxy's parse cache) is hand-written for the same reason: the TiDB
// parser's own Normalize runs its full lexer and allocates, ~10x the cost of
// one pass that only tracks quotes and comments and blanks integer literals.
// It follows that lexer's rules, and FuzzShape checks that two texts of one
// shape parse alike.
package mysql
