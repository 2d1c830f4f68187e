package redisslot

import "sync"

// HoldRounds keeps l's renewal rounds from running until resume is called:
// a round due meanwhile waits for it. Call resume before Close.
func HoldRounds(l *Limiter) (resume func()) {
	l.renewer.roundMu.Lock()
	return sync.OnceFunc(l.renewer.roundMu.Unlock)
}
