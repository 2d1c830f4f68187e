package redisslot_test

import (
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Promise 1, for an instance cut off from Redis, across a failover that
// nothing tells of: the address moves the open connections to a promoted
// replica that has the scripts, so that no call is answered NOSCRIPT or
// READONLY, and the pub/sub connection, moved too, has lost its
// subscriptions. The replica may have a key with an older expiry, from
// before writes it missed: the first round it answers must leave the key
// outliving every lease it confirms, or the key expires under a slot whose
// holder lives on by its clock.
//
// Here (see olderKeyExpiryAcrossFailover) the round under test is a's
// first round answered by the new master.
func TestRoundAfterAFailoverThatTellsNothingKeepsTheKeysAlive(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	olderKeyExpiryAcrossFailover(t, olderExpiryFailover{
		failOver: func(t *testing.T, s *failoverSetup, _ *redis.Client, failedOver *atomic.Bool) {
			s.failOver(t, failoverCase{open: moveConns, scripts: true})
			failedOver.Store(true) // after the move: a round sent from now on reaches the new master
		},
		answered: func(cmds []redis.Cmder, err error) bool {
			return err == nil && cmds[0].Err() == nil
		},
		round: "a's first round answered by the new master",
		want:  "every round to extend its keys, for nothing may tell of a failover",
	})
}
