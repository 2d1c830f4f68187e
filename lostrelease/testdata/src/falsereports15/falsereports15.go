// Package falsereports15 holds correct code in the gateway's shapes that
// lostrelease must not report: the comment on each case says why the code
// is correct.
package falsereports15

import "net/http"

type status int

const (
	statusOK status = iota
	statusFull
	statusBackend
)

// httpCode is the response a status gets.
func (s status) httpCode() int { // want httpCode:"isPredicate maps:200=0,429=1,503=!0\\|1"
	switch s {
	case statusOK:
		return http.StatusOK
	case statusFull:
		return http.StatusTooManyRequests
	}
	return http.StatusServiceUnavailable
}
