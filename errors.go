package mamoru

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. They are part of the public API (JSON error bodies carry them,
// docs/api.md lists them) and must never be renamed. The web package maps
// each to an HTTP status in one table; the message catalog has a user-facing
// text for each under the ID "error.<code>".
const (
	EInvalidRequest       = "invalid_request"        // malformed input that no field rule explains
	EInvalidJSON          = "invalid_json"           // the body is not the JSON the endpoint expects
	EPayloadTooLarge      = "payload_too_large"      // the body exceeds the size limit
	EUnsupportedMediaType = "unsupported_media_type" // wrong Content-Type
	EInvalidEmail         = "invalid_email"          // not a usable email address
	EInvalidLanguage      = "invalid_language"       // language is not ja or en
	EInvalidTimeZone      = "invalid_time_zone"      // not an IANA time zone name
	EInvalidPhone         = "invalid_phone"          // not a usable mobile phone number
	EPasswordTooShort     = "password_too_short"     // fewer characters than the minimum
	EPasswordTooLong      = "password_too_long"      // more characters than the maximum
	EPasswordCommon       = "password_common"        // in the list of most common passwords
	EPasswordIncorrect    = "password_incorrect"     // current password wrong (password change)
	EInvalidCode          = "invalid_code"           // wrong, expired, used or unknown code or link
	EFlowExpired          = "flow_expired"           // the sign-in flow is unknown, expired, or bound to another browser
	EUnauthorized         = "unauthorized"           // no valid session
	EForbidden            = "forbidden"              // CSRF failure or not allowed
	ENotFound             = "not_found"              // no such resource (or not yours)
	EMethodNotAllowed     = "method_not_allowed"     // wrong HTTP method
	EConflict             = "conflict"               // concurrent change lost the race, or duplicate
	ERateLimited          = "rate_limited"           // too many requests (Error.RetryAfter says how long to wait)
	ECaptchaRequired      = "captcha_required"       // a CAPTCHA must be solved first (none given, or not valid)
	ELocked               = "locked"                 // the sign-in identifier is temporarily locked after failures
	EPasswordBreached     = "password_breached"      // the password appears in a breach corpus
	EStepUpRequired       = "step_up_required"       // the change needs a second factor (or the password) proved again in this session first
	EUnavailable          = "unavailable"            // a dependency is down
	EInternal             = "internal"               // anything else; details only in the log
)

// Error is the error type of the domain. Code is one of the E* constants.
// Message is a developer-facing English description that may be shown to the
// user only for non-internal codes; the user-facing text comes from the
// message catalog by code. Err is the underlying cause, logged, never shown.
type Error struct {
	Code    string
	Message string
	Err     error
	// RetryAfter, when > 0, is how long the client should wait before
	// trying again (ERateLimited; HTTP Retry-After).
	RetryAfter time.Duration
}

// Error implements the error interface.
func (e *Error) Error() string {
	switch {
	case e.Err != nil && e.Message != "":
		return fmt.Sprintf("mamoru: %s: %s: %v", e.Code, e.Message, e.Err)
	case e.Err != nil:
		return fmt.Sprintf("mamoru: %s: %v", e.Code, e.Err)
	default:
		return fmt.Sprintf("mamoru: %s: %s", e.Code, e.Message)
	}
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an *Error with the given code around a cause.
func WrapError(code string, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// ErrorCode returns the code of err: the Code of the first *Error in its
// chain, "" for nil, and EInternal for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the developer-facing message of err when it is an
// *Error with a non-internal code, and "internal error" otherwise.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EInternal {
		if e.Message != "" {
			return e.Message
		}
		return e.Code
	}
	return "internal error"
}

// asError returns the first *Error in err's chain, or nil.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
