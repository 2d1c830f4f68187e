package redisslot_test

import (
	"testing"

	"github.com/ctxguard/release/redisslot/internal/redistest"
	"go.uber.org/goleak"
)

// TestMain runs the tests with one shared redis-server, stopped once they
// are done, and then looks for leaked goroutines.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(redistest.WithShared(m))
}
