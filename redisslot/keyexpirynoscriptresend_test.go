package redisslot_test

import (
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Promise 1, for an instance cut off from Redis, across a failover that no
// call sees fail (see TestRoundAnsweredNoScriptExtendsEveryKey): the first
// round sent to the promoted replica is answered NOSCRIPT, loads the script
// and sends its renewals again, and what Redis answers to them it confirms.
// A key the replica has with an older expiry, from before the writes it
// missed, must not expire under a slot whose lease that round confirmed,
// even if no later round gets through.
//
// Here (see olderKeyExpiryAcrossFailover) the replica is promoted and the
// address moves the open connections to it: a's next round is answered
// NOSCRIPT there and sent again, and the new master renews a's slot.
func TestRoundAnsweredNoScriptExtendsTheKeysOfTheRenewalsItSendsAgain(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	olderKeyExpiryAcrossFailover(t, olderExpiryFailover{
		failOver: func(t *testing.T, s *failoverSetup, _ *redis.Client, failedOver *atomic.Bool) {
			failedOver.Store(true) // before the failover: a round may reach the new master while it moves the connections
			s.failOver(t, failoverCase{open: moveConns})
		},
		// The renewal sent again after NOSCRIPT is an EVAL; a round sent
		// later, an EVALSHA, was built after the round's forget.
		answered: func(cmds []redis.Cmder, err error) bool {
			return cmds[0].Name() == "eval" && err == nil && cmds[0].Err() == nil
		},
		round: "a's round answered NOSCRIPT sent its renewal again",
		want:  "the renewals sent again to extend their keys, as every renewal does",
	})
}
