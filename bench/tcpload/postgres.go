package main

import (
	"fmt"
	"net"

	"github.com/jackc/pgx/v5/pgproto3"
)

// pgHello logs in as user postgres (trust auth) and runs SELECT 1, so that
// the proxy in between has seen a whole startup and a statement and the
// connection then sits idle in the state an application's pool leaves it.
// pgproto3's frontend is dropped afterwards: only the socket is kept.
func pgHello(c net.Conn) error {
	fe := pgproto3.NewFrontend(c, c)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": "postgres", "database": "postgres"}})
	if err := untilReady(fe); err != nil {
		return fmt.Errorf("startup: %w", err)
	}
	fe.Send(&pgproto3.Query{String: "SELECT 1"})
	if err := untilReady(fe); err != nil {
		return fmt.Errorf("SELECT 1: %w", err)
	}
	return nil
}

// untilReady flushes and reads until ReadyForQuery; an ErrorResponse fails.
func untilReady(fe *pgproto3.Frontend) error {
	if err := fe.Flush(); err != nil {
		return err
	}
	for {
		m, err := fe.Receive()
		if err != nil {
			return err
		}
		switch m := m.(type) {
		case *pgproto3.ReadyForQuery:
			return nil
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("%s: %s", m.Code, m.Message)
		}
	}
}
