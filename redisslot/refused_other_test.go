//go:build !unix

package redisslot_test

import "testing"

// refusedAddr skips t: holding a port without listening on it needs the
// Unix socket calls.
func refusedAddr(t *testing.T) string {
	t.Skip("refusedAddr needs the Unix socket calls")
	return ""
}
