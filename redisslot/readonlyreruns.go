package redisslot

import "sync/atomic"

// readOnlyReruns decides when a renewal round answered READONLY runs again.
// Such an answer comes from a master a failover demoted under the client's
// open connections, and go-redis closes each connection so answered. A round
// run again closes at least one more, or reaches the new master through a
// new one; so a round has run again once more than the client had
// connections after the first round so answered, it has reached the new
// master, if there is one, over every stale connection. Then, and for a
// client that reaches nothing but a replica, it runs again no more until a
// round gets an answer other than READONLY.
type readOnlyReruns struct {
	conns  func() int   // connections the client holds open
	budget atomic.Int64 // rounds to run again in this run of READONLY answers; 0 before its first
	ran    int          // rounds run again so far in it (the renewer goroutine's)
}

// again notes whether a round was answered READONLY, and reports whether
// to run it again.
func (rr *readOnlyReruns) again(readOnly bool) bool {
	if !readOnly {
		rr.budget.Store(0)
		rr.ran = 0
		return false
	}
	if rr.budget.Load() == 0 {
		rr.budget.Store(int64(rr.conns()) + 1)
	}
	if int64(rr.ran) >= rr.budget.Load() {
		return false
	}
	rr.ran++
	return true
}
