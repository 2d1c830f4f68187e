module github.com/ctxguard/release/redisslot/peerbench

go 1.25.0

require (
	github.com/bsm/redislock v0.9.4
	github.com/ctxguard/release v1.1.0
	github.com/ctxguard/release/redisslot v0.1.0
	github.com/redis/go-redis/v9 v9.22.0
	github.com/redis/rueidis v1.0.79
	go.uber.org/goleak v1.3.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)

replace github.com/ctxguard/release => ../../

replace github.com/ctxguard/release/redisslot => ../
