package redisslot_test

import (
	"os"
	"testing"

	"github.com/ctxguard/release/redisslot/internal/redistest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	stop := redistest.StartShared()
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		stop()
		os.Exit(code)
	}))
}
