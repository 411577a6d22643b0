package postgres

// tally holds what one direction's decoding counted in the chunk being fed,
// added to the filter's shared counters once the chunk is decoded (flush):
// a pgbench -M prepared transaction is seven messages and a statement, 18
// atomic additions on counters every connection shares when each message
// adds its own, 8 when each chunk does. The counters lag by at most the
// chunk being decoded. uint32 is enough: a chunk holds at most a read
// buffer of messages of at least five bytes.
type tally struct {
	msgs       uint32
	stmts      uint32
	kind       [numStmtKinds]uint32 // statements_insert ... statements_other, by stmtKind
	tx, commit uint32               // transactions, transactions_commit
}

// stmtKind indexes tally.kind.
type stmtKind uint8

const (
	stmtInsert stmtKind = iota
	stmtDelete
	stmtUpdate
	stmtSelect
	stmtOther
	numStmtKinds
)

// stmtKindOf returns the kind of a CommandComplete tag's first word.
func stmtKindOf(word []byte) stmtKind {
	switch string(word) {
	case "INSERT":
		return stmtInsert
	case "DELETE":
		return stmtDelete
	case "UPDATE":
		return stmtUpdate
	case "SELECT":
		return stmtSelect
	}
	return stmtOther
}

// flushFront adds the client side's tally to the counters and clears it.
func (t *tally) flushFront(st *Stats) {
	if t.msgs > 0 {
		st.Messages.Add(uint64(t.msgs))
		st.MessagesFrontend.Add(uint64(t.msgs))
		t.msgs = 0
	}
}

// flushBack adds the server side's tally to the counters and clears it.
func (t *tally) flushBack(st *Stats) {
	if t.msgs > 0 {
		st.Messages.Add(uint64(t.msgs))
		st.MessagesBackend.Add(uint64(t.msgs))
	}
	if t.stmts > 0 {
		st.Statements.Add(uint64(t.stmts))
		for k, n := range t.kind {
			if n > 0 {
				st.stmtCounter(stmtKind(k)).Add(uint64(n))
			}
		}
	}
	if t.tx > 0 {
		st.Transactions.Add(uint64(t.tx))
	}
	if t.commit > 0 {
		st.TransactionsCommit.Add(uint64(t.commit))
	}
	*t = tally{}
}
