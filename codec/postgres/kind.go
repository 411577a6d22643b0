package postgres

// Kind is a message's meaning, resolved from its type byte, its direction and
// the session's state.
type Kind uint8

// Message kinds. The comment gives the type byte.
const (
	KindUnknown Kind = iota // a type byte accepted under Config.AllowUnknown

	// Frontend startup phase (no type byte).
	KindStartupMessage // protocol 3.x, parameters
	KindSSLRequest     // code 80877103
	KindGSSENCRequest  // code 80877104
	KindCancelRequest  // code 80877102
	KindTLS            // a TLS record (0x16) where a startup packet belongs: encrypted from here on

	// Frontend typed messages.
	KindQuery               // 'Q'
	KindParse               // 'P'
	KindBind                // 'B'
	KindDescribe            // 'D'
	KindExecute             // 'E'
	KindSync                // 'S'
	KindClose               // 'C'
	KindFlush               // 'H'
	KindFunctionCall        // 'F'
	KindTerminate           // 'X'
	KindCopyFail            // 'f'
	KindPasswordMessage     // 'p' answering cleartext or MD5 authentication
	KindSASLInitialResponse // 'p' answering AuthenticationSASL
	KindSASLResponse        // 'p' answering AuthenticationSASLContinue
	KindGSSResponse         // 'p' answering GSS or SSPI authentication
	KindAuthResponse        // 'p' whose meaning a lone frontend Decoder cannot know

	// Both directions.
	KindCopyData // 'd'
	KindCopyDone // 'c'

	// Backend.
	KindEncryptionAnswer         // 'S', 'G' or 'N' alone, answering SSLRequest or GSSENCRequest
	KindAuthenticationOk         // 'R' 0
	KindAuthenticationKerberosV5 // 'R' 2
	KindAuthenticationCleartext  // 'R' 3
	KindAuthenticationMD5        // 'R' 5
	KindAuthenticationGSS        // 'R' 7
	KindAuthenticationGSSContinue
	KindAuthenticationSSPI         // 'R' 9
	KindAuthenticationSASL         // 'R' 10
	KindAuthenticationSASLContinue // 'R' 11
	KindAuthenticationSASLFinal    // 'R' 12
	KindAuthentication             // 'R' with an unknown or unreadable code
	KindParameterStatus            // 'S'
	KindBackendKeyData             // 'K'
	KindReadyForQuery              // 'Z'
	KindRowDescription             // 'T'
	KindDataRow                    // 'D'
	KindCommandComplete            // 'C'
	KindEmptyQueryResponse         // 'I'
	KindErrorResponse              // 'E'
	KindNoticeResponse             // 'N'
	KindNotificationResponse       // 'A'
	KindParseComplete              // '1'
	KindBindComplete               // '2'
	KindCloseComplete              // '3'
	KindNoData                     // 'n'
	KindParameterDescription       // 't'
	KindPortalSuspended            // 's'
	KindCopyInResponse             // 'G'
	KindCopyOutResponse            // 'H'
	KindCopyBothResponse           // 'W'
	KindFunctionCallResponse       // 'V'
	KindNegotiateProtocolVersion   // 'v'

	numKinds
)

var kindNames = [numKinds]string{
	"Unknown", "StartupMessage", "SSLRequest", "GSSENCRequest", "CancelRequest", "TLS",
	"Query", "Parse", "Bind", "Describe", "Execute", "Sync", "Close", "Flush", "FunctionCall",
	"Terminate", "CopyFail", "PasswordMessage", "SASLInitialResponse", "SASLResponse",
	"GSSResponse", "AuthResponse", "CopyData", "CopyDone", "EncryptionAnswer",
	"AuthenticationOk", "AuthenticationKerberosV5", "AuthenticationCleartextPassword",
	"AuthenticationMD5Password", "AuthenticationGSS", "AuthenticationGSSContinue",
	"AuthenticationSSPI", "AuthenticationSASL", "AuthenticationSASLContinue",
	"AuthenticationSASLFinal", "Authentication", "ParameterStatus", "BackendKeyData",
	"ReadyForQuery", "RowDescription", "DataRow", "CommandComplete", "EmptyQueryResponse",
	"ErrorResponse", "NoticeResponse", "NotificationResponse", "ParseComplete",
	"BindComplete", "CloseComplete", "NoData", "ParameterDescription", "PortalSuspended",
	"CopyInResponse", "CopyOutResponse", "CopyBothResponse", "FunctionCallResponse",
	"NegotiateProtocolVersion",
}

// String returns the protocol documentation's name of the kind.
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "Kind(?)"
}

// frontendKinds and backendKinds map a type byte to its kind; KindUnknown
// marks a byte the direction does not define. 'p' and 'R' are refined later.
var frontendKinds, backendKinds [256]Kind

func init() {
	for t, k := range map[byte]Kind{
		'Q': KindQuery, 'P': KindParse, 'B': KindBind, 'D': KindDescribe, 'E': KindExecute,
		'S': KindSync, 'C': KindClose, 'H': KindFlush, 'F': KindFunctionCall, 'X': KindTerminate,
		'd': KindCopyData, 'c': KindCopyDone, 'f': KindCopyFail, 'p': KindAuthResponse,
	} {
		frontendKinds[t] = k
	}
	for t, k := range map[byte]Kind{
		'R': KindAuthentication, 'S': KindParameterStatus, 'K': KindBackendKeyData,
		'Z': KindReadyForQuery, 'T': KindRowDescription, 'D': KindDataRow, 'C': KindCommandComplete,
		'I': KindEmptyQueryResponse, 'E': KindErrorResponse, 'N': KindNoticeResponse,
		'A': KindNotificationResponse, '1': KindParseComplete, '2': KindBindComplete,
		'3': KindCloseComplete, 'n': KindNoData, 't': KindParameterDescription,
		's': KindPortalSuspended, 'G': KindCopyInResponse, 'H': KindCopyOutResponse,
		'W': KindCopyBothResponse, 'd': KindCopyData, 'c': KindCopyDone,
		'V': KindFunctionCallResponse, 'v': KindNegotiateProtocolVersion,
	} {
		backendKinds[t] = k
	}
}
