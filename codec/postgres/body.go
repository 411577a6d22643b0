package postgres

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgproto3"
)

// bodies holds one value of each pgproto3 type a Decoder decodes into, so
// that steady-state decoding does not allocate the message structs (the
// pgproto3 Frontend and Backend do the same).
type bodies struct {
	parse        pgproto3.Parse
	describe     pgproto3.Describe
	execute      pgproto3.Execute
	sync         pgproto3.Sync
	close        pgproto3.Close
	flush        pgproto3.Flush
	functionCall pgproto3.FunctionCall
	terminate    pgproto3.Terminate
	copyFail     pgproto3.CopyFail
	copyDone     pgproto3.CopyDone
	password     pgproto3.PasswordMessage
	saslInitial  pgproto3.SASLInitialResponse
	saslResponse pgproto3.SASLResponse
	gssResponse  pgproto3.GSSResponse

	authOk        pgproto3.AuthenticationOk
	authClear     pgproto3.AuthenticationCleartextPassword
	authMD5       pgproto3.AuthenticationMD5Password
	authGSS       pgproto3.AuthenticationGSS
	authGSSCont   pgproto3.AuthenticationGSSContinue
	authSASL      pgproto3.AuthenticationSASL
	authSASLCont  pgproto3.AuthenticationSASLContinue
	authSASLFinal pgproto3.AuthenticationSASLFinal
	paramStatus   pgproto3.ParameterStatus
	keyData       pgproto3.BackendKeyData
	ready         pgproto3.ReadyForQuery
	rowDesc       pgproto3.RowDescription
	complete      pgproto3.CommandComplete
	emptyQuery    pgproto3.EmptyQueryResponse
	errorResp     pgproto3.ErrorResponse
	notice        pgproto3.NoticeResponse
	notification  pgproto3.NotificationResponse
	parseComplete pgproto3.ParseComplete
	bindComplete  pgproto3.BindComplete
	closeComplete pgproto3.CloseComplete
	noData        pgproto3.NoData
	paramDesc     pgproto3.ParameterDescription
	suspended     pgproto3.PortalSuspended
	copyIn        pgproto3.CopyInResponse
	copyOut       pgproto3.CopyOutResponse
	copyBoth      pgproto3.CopyBothResponse
	fcResponse    pgproto3.FunctionCallResponse
	negotiate     pgproto3.NegotiateProtocolVersion
}

// scratch is the memory one typed message is decoded into: the Message and
// a value of each pgproto3 type (1.4 KB together). Decoders borrow one from
// scratchPool for the length of a Feed instead of owning one, since a
// Message is valid only until emit returns: an idle session then holds
// none, which matters
// with ten thousand mostly idle client connections (issue 20's 16 KiB per
// idle connection), and a busy one reuses the same few without allocating.
type scratch struct {
	msg    Message
	bodies bodies
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// put returns s to the pool, without the references its Message holds to
// the caller's bytes.
func (s *scratch) put() {
	s.msg = Message{}
	scratchPool.Put(s)
}

// errNoNUL is a Query or Parse whose text is not NUL-terminated.
var errNoNUL = errors.New("string not NUL-terminated")

// authKinds maps an Authentication request code to its kind.
var authKinds = map[uint32]Kind{
	0: KindAuthenticationOk, 2: KindAuthenticationKerberosV5, 3: KindAuthenticationCleartext,
	5: KindAuthenticationMD5, 7: KindAuthenticationGSS, 8: KindAuthenticationGSSContinue,
	9: KindAuthenticationSSPI, 10: KindAuthenticationSASL, 11: KindAuthenticationSASLContinue,
	12: KindAuthenticationSASLFinal,
}

// decodeBody fills m from a fully buffered body.
func (d *Decoder) decodeBody(m *Message, b *bodies, body []byte) {
	if d.kind == KindQuery {
		if len(body) == 0 || body[len(body)-1] != 0 {
			m.Err = &BodyError{Kind: d.kind, Err: errNoNUL}
			return
		}
		m.SQL = body[:len(body)-1]
		return
	}
	if d.kind == KindParse {
		name, rest, ok := bytes.Cut(body, []byte{0})
		sql, _, ok2 := bytes.Cut(rest, []byte{0})
		if !ok || !ok2 {
			m.Err = &BodyError{Kind: d.kind, Err: errNoNUL}
			return
		}
		m.Name, m.SQL = name, sql
		if len(sql) > d.cfg.MaxSQL {
			m.SQL, m.Truncated = sql[:d.cfg.MaxSQL], true
		}
	}
	if d.kind == KindAuthResponse {
		m.Kind = d.authResponseKind()
	}
	if d.kind == KindAuthentication {
		m.Kind = KindAuthentication
		if len(body) >= 4 {
			if k, ok := authKinds[binary.BigEndian.Uint32(body)]; ok {
				m.Kind = k
			}
		}
		d.sess.auth.Store(uint32(m.Kind))
	}
	if !d.cfg.decodes(m.Kind) {
		return
	}
	dst := b.bodyFor(m.Kind)
	if dst == nil {
		return
	}
	if err := safeDecode(dst, body); err != nil {
		m.Err = &BodyError{Kind: m.Kind, Err: err}
		return
	}
	m.Body = dst
}

// errDecodePanic is a body the library's decoder could not handle.
var errDecodePanic = errors.New("malformed body")

// safeDecode decodes body into dst and turns a panic in the library's
// decoder into an error. pgproto3 v2 indexed past the end of short FunctionCall,
// CopyFail and CommandComplete bodies (a five-byte message took the process
// down); v5 checks those, but a decoder is fed whatever a peer sends, so no
// library decoder is trusted to bound-check every layout.
func safeDecode(dst pgproto3.Message, body []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errDecodePanic, r)
		}
	}()
	return dst.Decode(body)
}

// authResponseKind resolves a frontend 'p' by the authentication request it
// answers, as the server does.
func (d *Decoder) authResponseKind() Kind {
	switch Kind(d.sess.auth.Load()) {
	case KindAuthenticationCleartext, KindAuthenticationMD5:
		return KindPasswordMessage
	case KindAuthenticationSASL:
		return KindSASLInitialResponse
	case KindAuthenticationSASLContinue:
		return KindSASLResponse
	case KindAuthenticationGSS, KindAuthenticationGSSContinue, KindAuthenticationSSPI:
		return KindGSSResponse
	}
	return KindAuthResponse
}

// bodyFor returns the reusable pgproto3 value for k, or nil when the body is
// not decoded.
func (b *bodies) bodyFor(k Kind) pgproto3.Message {
	switch k {
	case KindParse:
		return &b.parse
	case KindDescribe:
		return &b.describe
	case KindExecute:
		return &b.execute
	case KindSync:
		return &b.sync
	case KindClose:
		return &b.close
	case KindFlush:
		return &b.flush
	case KindFunctionCall:
		return &b.functionCall
	case KindTerminate:
		return &b.terminate
	case KindCopyFail:
		return &b.copyFail
	case KindCopyDone:
		return &b.copyDone
	case KindPasswordMessage:
		return &b.password
	case KindSASLInitialResponse:
		return &b.saslInitial
	case KindSASLResponse:
		return &b.saslResponse
	case KindGSSResponse:
		return &b.gssResponse
	}
	return b.backendBodyFor(k)
}

// backendBodyFor is bodyFor for backend kinds.
func (b *bodies) backendBodyFor(k Kind) pgproto3.Message {
	switch k {
	case KindAuthenticationOk:
		return &b.authOk
	case KindAuthenticationCleartext:
		return &b.authClear
	case KindAuthenticationMD5:
		return &b.authMD5
	case KindAuthenticationGSS:
		return &b.authGSS
	case KindAuthenticationGSSContinue:
		return &b.authGSSCont
	case KindAuthenticationSASL:
		return &b.authSASL
	case KindAuthenticationSASLContinue:
		return &b.authSASLCont
	case KindAuthenticationSASLFinal:
		return &b.authSASLFinal
	case KindParameterStatus:
		return &b.paramStatus
	case KindBackendKeyData:
		return &b.keyData
	case KindReadyForQuery:
		return &b.ready
	case KindRowDescription:
		return &b.rowDesc
	case KindCommandComplete:
		return &b.complete
	case KindEmptyQueryResponse:
		return &b.emptyQuery
	case KindErrorResponse:
		return &b.errorResp
	case KindNoticeResponse:
		return &b.notice
	case KindNotificationResponse:
		return &b.notification
	case KindParseComplete:
		return &b.parseComplete
	case KindBindComplete:
		return &b.bindComplete
	case KindCloseComplete:
		return &b.closeComplete
	case KindNoData:
		return &b.noData
	case KindParameterDescription:
		return &b.paramDesc
	case KindPortalSuspended:
		return &b.suspended
	case KindCopyInResponse:
		return &b.copyIn
	case KindCopyOutResponse:
		return &b.copyOut
	case KindCopyBothResponse:
		return &b.copyBoth
	case KindFunctionCallResponse:
		return &b.fcResponse
	case KindNegotiateProtocolVersion:
		return &b.negotiate
	}
	return nil
}
