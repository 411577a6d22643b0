package postgres

import (
	"runtime"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// TestIdlePairHoldsLittle: a session past its startup and first query, now
// idle, holds only the decoders' framing state: the decoded Message and the
// pgproto3 bodies were borrowed for the Feed calls (issue 20's memory per
// idle connection; a Pair owning them held 3.6 KB).
func TestIdlePairHoldsLittle(t *testing.T) {
	const n = 2000
	fe := append(startup(v30, userShop), enc(t, &pgproto3.Query{String: "SELECT 1"})...)
	be := enc(t, &pgproto3.AuthenticationOk{}, &pgproto3.ParameterStatus{Name: "server_version", Value: "15.14"},
		&pgproto3.BackendKeyData{ProcessID: 7, SecretKey: []byte{1, 2, 3, 4}}, &pgproto3.ReadyForQuery{TxStatus: 'I'},
		&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("?column?"), DataTypeOID: 23, DataTypeSize: 4}}},
		&pgproto3.DataRow{Values: [][]byte{[]byte("1")}}, &pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")},
		&pgproto3.ReadyForQuery{TxStatus: 'I'})
	emitted := 0
	emit := func(*Message) error { emitted++; return nil }
	pairs := make([]*Pair, n)
	before := heapInUse()
	for i := range pairs {
		p := NewPair(Config{})
		if err := p.Frontend.Feed(fe, emit); err != nil {
			t.Fatal(err)
		}
		if err := p.Backend.Feed(be, emit); err != nil {
			t.Fatal(err)
		}
		pairs[i] = p
	}
	per := float64(heapInUse()-before) / n
	runtime.KeepAlive(pairs)
	if emitted != n*10 {
		t.Fatalf("emitted %d messages, want %d", emitted, n*10)
	}
	t.Logf("%.0f bytes per idle pair", per)
	if per > 640 {
		t.Errorf("an idle pair holds %.0f bytes, want at most 640", per)
	}
}

// heapInUse returns the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
