// Package web is Nova's HTTP layer: the error-to-status table every handler
// uses, API authentication, the JSON API, and the web pages people open
// from PagerDuty and Slack, behind Sign in with Slack. It reads Nova only
// through the ports it declares (PageData, Decider), wired in cmd/nova.
package web

import (
	"encoding/json"
	"net/http"

	"github.com/novasre/nova"
)

// statusCodes maps Nova error codes to HTTP status codes. It is the only
// such table; every HTTP handler answers errors through WriteError.
var statusCodes = map[string]int{
	nova.EINVALID:      http.StatusBadRequest,
	nova.EUNAUTHORIZED: http.StatusUnauthorized,
	nova.EFORBIDDEN:    http.StatusForbidden,
	nova.ENOTFOUND:     http.StatusNotFound,
	nova.ECONFLICT:     http.StatusConflict,
	nova.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	nova.EUNAVAILABLE:  http.StatusServiceUnavailable,
	nova.ERATELIMITED:  http.StatusTooManyRequests,
	nova.EINTERNAL:     http.StatusInternalServerError,
}

// StatusCode returns the HTTP status for a Nova error code.
func StatusCode(code string) int {
	if s, ok := statusCodes[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON body of every error answer.
type ErrorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// WriteError answers err with its status code and user-facing message.
// The message never holds secrets (see nova.Error); internal details stay in logs.
func WriteError(w http.ResponseWriter, err error) {
	code := nova.ErrorCode(err)
	WriteJSON(w, StatusCode(code), ErrorBody{Error: nova.ErrorMessage(err), Code: code})
}

// WriteJSON answers v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
