package http1

import "errors"

// Error is a request the reader refuses; Status is the response to send
// (400, 431 or 501) before closing the connection.
type Error struct {
	Status int
	Reason string
}

func (e *Error) Error() string { return "http1: " + e.Reason }

func bad(reason string) *Error { return &Error{Status: 400, Reason: reason} }

var (
	// ErrHeadTooLarge is a head (or trailer block) over Limits.MaxHeaderBytes.
	ErrHeadTooLarge = &Error{Status: 431, Reason: "headers too large"}
	// ErrTooManyHeaders is a head with more than Limits.MaxHeaders fields.
	ErrTooManyHeaders = &Error{Status: 431, Reason: "too many headers"}
	// ErrBareLF is a line ended by LF without CR.
	ErrBareLF = bad("bare LF")
	// ErrObsFold is a header line continued on the next line (obs-fold).
	ErrObsFold = bad("obsolete line folding")
)

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
