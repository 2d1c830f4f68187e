package redisslot_test

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Promise 1, for an instance cut off from Redis, across a failover that a
// round finds answered READONLY: the old master, demoted under the
// instance's open connections, answers READONLY; the round runs again, on
// a new connection, and reaches the promoted replica, which has the
// scripts (no NOSCRIPT tells of the failover there). The replica may have
// a key with an older expiry, from before the writes it missed: the round
// run again must extend it, as any round does, or the key expires under a
// slot whose lease that round confirmed.
//
// Here (see olderKeyExpiryAcrossFailover) the replica is promoted with the
// scripts, the old master is demoted, and a's open connections stay on
// it: a's next round is answered READONLY and runs again until the new
// master answers it.
func TestRoundAnsweredReadOnlyExtendsTheKeysWhenItRunsAgain(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	// Whether a round was answered READONLY: read and written on the hook alone.
	var readOnly bool
	olderKeyExpiryAcrossFailover(t, olderExpiryFailover{
		failOver: func(t *testing.T, s *failoverSetup, c *redis.Client, failedOver *atomic.Bool) {
			holdConns(t, c, demotedConns) // more than a round's call tries: each is answered READONLY
			failedOver.Store(true)
			s.failOver(t, failoverCase{open: keepConns, scripts: true, demote: true})
		},
		answered: func(cmds []redis.Cmder, err error) bool {
			if err != nil && strings.HasPrefix(err.Error(), "READONLY") {
				readOnly = true // the demoted master: the round runs again
			}
			return readOnly && err == nil && cmds[0].Err() == nil
		},
		round: "a's round answered READONLY ran again and reached the new master",
		want:  "a round run again after READONLY to extend every key, as after NOSCRIPT",
	})
}
