package request

import (
	"fmt"
	"net/http"
	"strings"
)

// MMCP error codes (MMCP-notes §8). The set is closed per minor version:
// clients pass unknown codes through, so never invent one.
const (
	CodeSchemaValidation       = "schema_validation"
	CodeUnknownModel           = "unknown_model"
	CodeRetargetingUnsupported = "retargeting_unsupported"
	CodeUnsupportedConstraint  = "unsupported_constraint"
	CodeUnsupportedSegment     = "unsupported_segment"
	CodeUnknownJoint           = "unknown_joint"
	CodeInvalidSkeleton        = "invalid_skeleton"
	CodeFrameOutOfRange        = "frame_out_of_range"
	CodeInvalidRequest         = "invalid_request" // 1.2
	CodeInvalidOptions         = "invalid_options"
	CodeVersionUnsupported     = "version_unsupported"
	CodeUnauthorized           = "unauthorized"
	CodeForbidden              = "forbidden"
	CodePayloadTooLarge        = "payload_too_large"
	CodeRateLimited            = "rate_limited"
	CodeInternalError          = "internal_error"
	CodeResourceExhausted      = "resource_exhausted"
	CodeModelUnavailable       = "model_unavailable"
	CodeTimeout                = "timeout"
)

var statusOf = map[string]int{
	CodeSchemaValidation:       http.StatusUnprocessableEntity,
	CodeUnknownModel:           http.StatusBadRequest,
	CodeRetargetingUnsupported: http.StatusBadRequest,
	CodeUnsupportedConstraint:  http.StatusBadRequest,
	CodeUnsupportedSegment:     http.StatusBadRequest,
	CodeUnknownJoint:           http.StatusBadRequest,
	CodeInvalidSkeleton:        http.StatusBadRequest,
	CodeFrameOutOfRange:        http.StatusBadRequest,
	CodeInvalidRequest:         http.StatusBadRequest,
	CodeInvalidOptions:         http.StatusBadRequest,
	CodeVersionUnsupported:     http.StatusBadRequest,
	CodeUnauthorized:           http.StatusUnauthorized,
	CodeForbidden:              http.StatusForbidden,
	CodePayloadTooLarge:        http.StatusRequestEntityTooLarge,
	CodeRateLimited:            http.StatusTooManyRequests,
	CodeInternalError:          http.StatusInternalServerError,
	CodeResourceExhausted:      http.StatusServiceUnavailable,
	CodeModelUnavailable:       http.StatusServiceUnavailable,
	CodeTimeout:                http.StatusGatewayTimeout,
}

// StatusOf is the HTTP status MMCP gives a code; ok is false for a code
// outside MMCP's table.
func StatusOf(code string) (status int, ok bool) {
	status, ok = statusOf[code]
	return status, ok
}

// Error is a refusal in MMCP's terms. Marshalled, it is the body of the
// error envelope ({"error": <Error>}) and of a failed batch item.
type Error struct {
	Code    string         `json:"code"`
	Status  int            `json:"-"`
	Message string         `json:"message"` // safe to show; at most 500 bytes
	Details map[string]any `json:"details"` // never nil
	Err     error          `json:"-"`       // the cause, when there is one
}

// NewError builds an Error with the status of its code (500 for a code
// outside MMCP's table, which is a bug in the caller).
func NewError(code, message string, details map[string]any) *Error {
	status, ok := StatusOf(code)
	if !ok {
		status = http.StatusInternalServerError
	}
	if details == nil {
		details = map[string]any{}
	}
	return &Error{Code: code, Status: status, Message: truncate(message), Details: details}
}

func errorf(code string, details map[string]any, format string, args ...any) *Error {
	return NewError(code, fmt.Sprintf(format, args...), details)
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func (e *Error) Unwrap() error { return e.Err }

// FieldError is one entry of a schema_validation or invalid_skeleton error's
// details.errors, in pydantic's shape (type, loc, msg) without the input.
type FieldError struct {
	Type string `json:"type"`
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
}

// maxFieldErrors bounds details.errors: one bad array must not produce an
// answer as large as the request.
const maxFieldErrors = 50

// maxMessage is the longest message we send (the reference caps JSON parse
// messages at 500 characters).
const maxMessage = 500

func fieldErrors(code string, errs []FieldError, total int) *Error {
	first := errs[0]
	msg := first.Msg
	// invalid_skeleton's message is the problem itself, as in the reference.
	if where := locString(first.Loc); where != "" && code == CodeSchemaValidation {
		msg = where + ": " + msg
	}
	if total > 1 {
		msg += fmt.Sprintf(" (and %d more)", total-1)
	}
	if code == CodeSchemaValidation {
		msg = "request fails schema validation: " + msg
	}
	return NewError(code, msg, map[string]any{"errors": errs})
}

// locString writes a loc the way a reader looks it up: segments[0].prompt.
func locString(loc []any) string {
	var b strings.Builder
	for _, k := range loc {
		switch k := k.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", k)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, k)
		}
	}
	return b.String()
}

func truncate(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && s[cut]&0xC0 == 0x80 { // keep UTF-8 whole
		cut--
	}
	return s[:cut] + "…"
}
