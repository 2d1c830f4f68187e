// Package missedleaks13 holds leaks in the gateway's shapes that
// lostrelease must report.
package missedleaks13

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

func audit(string) error { return nil }
