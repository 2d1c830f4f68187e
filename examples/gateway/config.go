package main

import (
	"fmt"
	"io"
	"net"
	"time"
)

// config is one run of the example: where the slots live, how the gateway
// limits and streams, and the load it gets.
type config struct {
	Redis    string        // Redis address; empty: one instance, in process
	Duration time.Duration // how long the load generator sends requests
	Listen   string        // address of the first instance; loopback only

	Accounts        int           // accounts, a1, a2, ...
	UsersPerAccount int           // users of each account, a1-u1, a1-u2, ...
	UserLimit       int           // slots a user may hold at once
	AccountLimit    int           // slots an account may hold at once
	MaxWaiters      int           // requests that may wait for one user's slot
	UserWait        time.Duration // how long a request waits for its user's slot
	// Fallback is the share of each key's slots that an instance serves on
	// its own while Redis cannot be reached (redisslot.Options.Fallback);
	// 0: none, requests are refused with 503 then.
	Fallback int

	ClientsPerUser int           // load generator clients of each user
	HangUpEvery    int           // every n-th client hangs up mid-stream; 0: none
	Chunks         int           // lines in a served stream, at least 2
	ChunkEvery     time.Duration // the pause between them

	// Cover, when longer than Duration, keeps the load on past Duration
	// until a request was served, one refused and one cut by a hang-up
	// that freed its slots, for at most Cover in all. The command leaves
	// it zero; tests set it.
	Cover time.Duration
	// CoverAlso, when set, is one more thing Cover waits for: a test's own
	// event, such as Redis answering again after an outage.
	CoverAlso func() bool

	Progress io.Writer // the live progress line, about once a second; nil: none
}

// defaultConfig is the command's: a few clients more per user than the
// user's slots and its line of waiters, a wait for a user's slot shorter
// than a stream, more users' slots per account than the account's, and one
// client in four hanging up mid-stream. So requests are served, refused for
// every reason, and cut by hang-ups.
func defaultConfig() config {
	return config{
		Duration:        3 * time.Second,
		Listen:          "127.0.0.1:0",
		Accounts:        2,
		UsersPerAccount: 3,
		UserLimit:       2,
		AccountLimit:    4,
		MaxWaiters:      1,
		UserWait:        150 * time.Millisecond,
		ClientsPerUser:  4,
		HangUpEvery:     4,
		Chunks:          8,
		ChunkEvery:      25 * time.Millisecond,
	}
}

// check says what is wrong with c, if anything.
func (c config) check() error {
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("-listen %q: %w", c.Listen, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-listen %q: not a loopback address (the load generator stays on this machine)", c.Listen)
	}
	switch {
	case c.Duration <= 0:
		return fmt.Errorf("-duration %v: not positive", c.Duration)
	case c.Accounts < 1 || c.UsersPerAccount < 1 || c.ClientsPerUser < 1:
		return fmt.Errorf("no clients: %d accounts, %d users each, %d clients per user",
			c.Accounts, c.UsersPerAccount, c.ClientsPerUser)
	case c.Fallback < 0:
		return fmt.Errorf("-fallback %d: negative", c.Fallback)
	case c.UserLimit < 1 || c.AccountLimit < 1 || c.MaxWaiters < 0 || c.UserWait <= 0 || c.HangUpEvery < 0:
		return fmt.Errorf("bad limits: user %d, account %d, waiters %d, wait %v, hang-up every %d",
			c.UserLimit, c.AccountLimit, c.MaxWaiters, c.UserWait, c.HangUpEvery)
	case c.Chunks < 2 || c.ChunkEvery <= 0:
		return fmt.Errorf("bad stream: %d chunks every %v", c.Chunks, c.ChunkEvery)
	}
	return nil
}

// A userOf is a user and its account.
type userOf struct{ user, account string }

func (c config) users() []userOf {
	var us []userOf
	for a := range c.Accounts {
		for u := range c.UsersPerAccount {
			us = append(us, userOf{
				user:    fmt.Sprintf("a%d-u%d", a+1, u+1),
				account: fmt.Sprintf("a%d", a+1),
			})
		}
	}
	return us
}

// keys returns every slot key the run may take.
func (c config) keys() []string {
	var keys []string
	for a := range c.Accounts {
		keys = append(keys, accountKey(fmt.Sprintf("a%d", a+1)))
	}
	for _, u := range c.users() {
		keys = append(keys, userKey(u.user))
	}
	return keys
}

func (c config) clients() int { return c.Accounts * c.UsersPerAccount * c.ClientsPerUser }
