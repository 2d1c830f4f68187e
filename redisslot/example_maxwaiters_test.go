package redisslot_test

import (
	"fmt"
	"strings"

	"github.com/ctxguard/release/redisslot"
)

// This example caps the queue of each key as a gateway does: a user's
// queue at the user's limit plus 20, an account's at a number configured
// for that account, and any other key at Options.MaxWaiters. The caps hold
// across every instance that shares the Redis. The Options go to
// redisslot.New; the example prints the cap each key gets.
func ExampleOptions_maxWaitersFor() {
	accountQueue := map[string]int{"account:acme": 50} // from configuration
	opts := redisslot.Options{
		MaxWaiters: 10,
		MaxWaitersFor: func(key string, limit int) int {
			if strings.HasPrefix(key, "user:") {
				return limit + 20
			}
			return accountQueue[key] // 0 for an account not configured: MaxWaiters
		},
	}

	for _, c := range []struct {
		key   string
		limit int
	}{{"user:42", 4}, {"account:acme", 100}, {"account:initech", 100}, {"report", 1}} {
		n := opts.MaxWaitersFor(c.key, c.limit)
		if n <= 0 {
			n = opts.MaxWaiters
		}
		fmt.Printf("%s (limit %d): at most %d waiters\n", c.key, c.limit, n)
	}
	// Output:
	// user:42 (limit 4): at most 24 waiters
	// account:acme (limit 100): at most 50 waiters
	// account:initech (limit 100): at most 10 waiters
	// report (limit 1): at most 10 waiters
}
