// Command quickstartcheck builds every README quick start (each fenced Go
// block that is a package main) in a fresh module, as a reader would, with
// the go command and module proxy of its environment, then runs each
// against a redis-server of its own and checks its answers: 429 for a
// full key and for a full line of waiters, 503 for a closed Limiter (the
// program closes it on SIGTERM, then exits 0, leaving nothing in Redis)
// and for a stopped Redis.
//
//	quickstartcheck README.md redisslot/README.md
//
// A quick start must take -addr (where it listens) and -redis (the Redis
// address), let a user (X-User) hold 4 slots and wait 2 s for one, with
// at most 20 waiters, and serve GET /?lines=N for N lines, one every
// 100 ms.
package main

import (
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: quickstartcheck README.md...")
		os.Exit(2)
	}
	work, err := os.MkdirTemp("", "quickstart")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(work)
	n := 0
	for _, readme := range os.Args[1:] {
		blocks, err := mainBlocks(readme)
		if err != nil {
			fail(err)
		}
		if len(blocks) == 0 {
			fail(fmt.Errorf("%s has no package main quick start", readme))
		}
		for i, src := range blocks {
			n++
			name := fmt.Sprintf("%s, package main block %d", readme, i+1)
			dir := filepath.Join(work, fmt.Sprint("q", n))
			bin, err := build(dir, src)
			if err != nil {
				fail(fmt.Errorf("%s: %w", name, err))
			}
			if err := check(dir, bin); err != nil {
				fail(fmt.Errorf("%s: %w", name, err))
			}
			fmt.Printf("ok %s: 429 full key, 429 full line, 503 closed Limiter, 503 Redis stopped\n", name)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "quickstartcheck:", err)
	os.Exit(1)
}
