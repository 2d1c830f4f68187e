// Package redistest runs throwaway redis-server processes for tests, on
// 127.0.0.1 only, and counts the commands a go-redis client sends.
//
// A test package runs its tests with one shared server, stopped before
// goleak looks for leaks:
//
//	func TestMain(m *testing.M) {
//		goleak.VerifyTestMain(redistest.WithShared(m))
//	}
//
// Tests then call [Shared] for the server, or [Start] for one of their own
// (a test that stops and restarts Redis must not share it).
//
// A server that exits when nobody stopped it fails the test that used it, at
// the test's end, with its exit status and the end of its log (see
// [Server.Err]); a later test that asks for a dead shared server fails at
// once with the same report, rather than with refused connections.
//
// Where redis-server is not on PATH, [Shared] and [Start] skip the test with a
// message that says how to install it, or fail it when the environment sets
// REDISSLOT_REQUIRE_REDIS=1.
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// InstallHint says how to get redis-server on a Debian or Ubuntu machine.
const InstallHint = "redis-server is not on PATH; install it with " +
	"`apt-get update && apt-get install -y redis-server` (or `brew install redis`)"

// RequireEnv is the environment variable that turns a missing redis-server
// from a skip into a failure.
const RequireEnv = "REDISSLOT_REQUIRE_REDIS"

// startTimeout bounds how long a server may take to answer PING after start.
const startTimeout = 20 * time.Second

// Required reports whether the environment demands a real Redis
// (REDISSLOT_REQUIRE_REDIS=1).
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// A Server is a redis-server process on 127.0.0.1 with no persistence
// (--save "" --appendonly no) and a temporary working directory.
type Server struct {
	// Addr is host:port, always on 127.0.0.1; it stays the same across
	// Stop and Restart.
	Addr string

	port  int
	dir   string
	extra []string // more redis-server arguments

	mu   sync.Mutex
	cmd  *exec.Cmd // nil while stopped
	died error     // why it exited when nobody stopped it; nil after Restart
}

var (
	shared    *Server
	sharedErr error
)

// TestingM is what [testing.M] and goleak.VerifyTestMain's argument have in
// common.
type TestingM interface {
	Run() int // runs the tests, and returns the exit code for os.Exit
}

// WithShared returns m with a Run that starts the package's shared server
// (see [StartShared]), runs m's tests, and stops the server before it
// returns, so that goleak.VerifyTestMain, which looks for leaks when Run has
// returned, does not see the goroutine that starts servers.
func WithShared(m TestingM) TestingM { return withShared{m} }

type withShared struct{ m TestingM }

func (w withShared) Run() int {
	stop := StartShared()
	defer stop()
	return w.m.Run()
}

// StartShared starts the package's shared server and returns a function that
// stops it and removes its directory. Call it once, from TestMain, and call
// stop before goleak looks for leaks: while any server runs, one goroutine
// of this package runs too. [WithShared] does both. A failure to start is
// kept and reported by [Shared] to each test that asks.
func StartShared() (stop func()) {
	shared, sharedErr = start()
	return func() {
		if shared != nil {
			_ = shared.Stop()
			_ = os.RemoveAll(shared.dir)
		}
	}
}

// Shared returns the server started by [StartShared], or skips tb (fails it
// when REDISSLOT_REQUIRE_REDIS=1) when there is none. It fails tb at once if
// the server has died, and otherwise fails it when it ends if the server
// died meanwhile, each time with the report of [Server.Err].
func Shared(tb testing.TB) *Server {
	tb.Helper()
	if shared == nil {
		if sharedErr == nil {
			sharedErr = errors.New("redistest: StartShared was not called in TestMain")
		}
		skipOrFail(tb, sharedErr)
	}
	if err := shared.Err(); err != nil {
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(func() { shared.report(tb) })
	return shared
}

// Start starts a server of the test's own, stopped and removed when the test
// ends. It skips tb when redis-server is missing (fails it when
// REDISSLOT_REQUIRE_REDIS=1). If the server died during the test, tb fails
// when it ends with the report of [Server.Err].
func Start(tb testing.TB) *Server {
	tb.Helper()
	return startFor(tb)
}

// startFor starts a server with the extra redis-server arguments, checked
// and then stopped and removed when tb ends.
func startFor(tb testing.TB, extra ...string) *Server {
	tb.Helper()
	s, err := start(extra...)
	if err != nil {
		skipOrFail(tb, err)
	}
	tb.Cleanup(func() {
		s.report(tb)
		_ = s.Stop()
		_ = os.RemoveAll(s.dir)
	})
	return s
}

// StartWith starts a server of the test's own as [Start] does, with more
// redis-server arguments, such as "--enable-debug-command", "local" (for
// DEBUG SLEEP) or "--maxmemory", "1mb". They apply on every Restart too.
func StartWith(tb testing.TB, args ...string) *Server {
	tb.Helper()
	return startFor(tb, args...)
}

// report fails tb with the server's death, if it died.
func (s *Server) report(tb testing.TB) {
	tb.Helper()
	if err := s.Err(); err != nil {
		tb.Errorf("%v", err)
	}
}

// Err returns nil while the server runs (a stopped process, as by SIGSTOP,
// counts as running) and after [Server.Stop]. If the process exited when
// nobody stopped it, Err reaps it and returns an error with its pid, exit
// status and the end of its log, and keeps returning that error until
// [Server.Restart]. Where /proc is missing, an exit is noticed only by
// [Server.Stop].
func (s *Server) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || alive(s.cmd.Process.Pid) {
		return s.died
	}
	cmd := s.cmd
	s.cmd = nil
	status := reap(cmd)
	log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	s.died = fmt.Errorf("redistest: redis-server on %s (pid %d) exited while in use (%v); "+
		"the end of its log:\n%s", s.Addr, cmd.Process.Pid, status, tail(log))
	return s.died
}

// Pid returns the server's process id, or 0 while it is stopped.
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// errNotInstalled means redis-server is not on PATH.
var errNotInstalled = errors.New(InstallHint)

func skipOrFail(tb testing.TB, err error) {
	tb.Helper()
	if errors.Is(err, errNotInstalled) && !Required() {
		tb.Skip(err)
	}
	tb.Fatalf("redistest: %v", err)
}

func start(extra ...string) (*Server, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, errNotInstalled
	}
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		return nil, err
	}
	// A free port can be taken by another process between choosing it and
	// the server binding it; try a few.
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), port: port, dir: dir, extra: extra}
		if lastErr = s.Restart(); lastErr == nil {
			return s, nil
		}
	}
	_ = os.RemoveAll(dir)
	return nil, lastErr
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Restart starts the server again on the same address after [Server.Stop].
// The new server starts empty. It does nothing if the server is running.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	logPath := filepath.Join(s.dir, "redis.log")
	args := []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--protected-mode", "yes",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--logfile", logPath,
		"--daemonize", "no",
	}
	cmd := exec.Command("redis-server", append(args, s.extra...)...)
	dieWithParent(cmd)
	// No Stdout or Stderr writers: os/exec then starts no copying goroutines.
	if err := launch(cmd); err != nil {
		return fmt.Errorf("redistest: start redis-server: %w", err)
	}
	// cmd.Wait is called once, here, by Stop or by Err; a wait goroutine
	// would show up in goleak's reports, so poll the port instead.
	deadline := time.Now().Add(startTimeout)
	for {
		if err := ping(s.Addr); err == nil {
			s.cmd = cmd
			s.died = nil
			return nil
		}
		if !alive(cmd.Process.Pid) {
			err := reap(cmd)
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("redistest: redis-server on %s exited (%v): %s", s.Addr, err, tail(log))
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = reap(cmd)
			return fmt.Errorf("redistest: redis-server on %s did not answer PING within %v", s.Addr, startTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alive reports whether pid is running (and not a zombie waiting for Wait).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		// No /proc: fall back to signal 0, which also succeeds for zombies.
		return syscall.Kill(pid, 0) == nil
	}
	// The state follows the parenthesised command name.
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == ')' {
			return i+2 < len(b) && b[i+2] != 'Z'
		}
	}
	return true
}

func tail(b []byte) string {
	const n = 2000
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// ping sends a raw PING and waits for +PONG, without go-redis.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("redistest: PING answered %q", line)
	}
	return nil
}

// Stop kills the server by its pid (SIGKILL, so nothing is saved and no
// client gets a polite goodbye) and waits for it to exit. The address stays
// reserved for [Server.Restart] only as long as no other process takes it.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	cmd := s.cmd
	if err := syscall.Kill(cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("redistest: kill redis-server pid %d: %w", cmd.Process.Pid, err)
	}
	s.cmd = nil
	_ = reap(cmd) // "signal: killed" is the expected outcome
	return nil
}

// StartCluster starts a Redis Cluster of n primaries (no replicas) on
// 127.0.0.1, the hash slots split evenly between them, and waits until it
// reports itself ok. Its servers stop when the test ends. It skips or fails
// tb as [Start] does.
func StartCluster(tb testing.TB, n int) []*Server {
	tb.Helper()
	servers := make([]*Server, n)
	for i := range servers {
		servers[i] = startFor(tb, "--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "5000")
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	const slots = 16384
	for i, s := range servers {
		c := redis.NewClient(s.Options())
		lo, hi := i*slots/n, (i+1)*slots/n-1
		err := c.ClusterAddSlotsRange(ctx, lo, hi).Err()
		if err == nil && i > 0 {
			err = c.ClusterMeet(ctx, "127.0.0.1", strconv.Itoa(servers[0].port)).Err()
		}
		_ = c.Close()
		if err != nil {
			tb.Fatalf("redistest: set up cluster node %s: %v", s.Addr, err)
		}
	}
	for _, s := range servers {
		c := redis.NewClient(s.Options())
		for {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(n)+"\r") {
				break
			}
			if ctx.Err() != nil {
				_ = c.Close()
				tb.Fatalf("redistest: cluster node %s not ok within %v: %q, %v", s.Addr, startTimeout, info, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		_ = c.Close()
	}
	return servers
}

// ClusterClient returns a new Redis Cluster client of servers, closed when
// the test ends; each of set, if any, changes its options first.
func ClusterClient(tb testing.TB, servers []*Server, set ...func(*redis.ClusterOptions)) *redis.ClusterClient {
	tb.Helper()
	o := servers[0].Options()
	addrs := make([]string, len(servers))
	for i, s := range servers {
		addrs[i] = s.Addr
	}
	co := &redis.ClusterOptions{
		Addrs:                 addrs,
		ContextTimeoutEnabled: o.ContextTimeoutEnabled,
		DialTimeout:           o.DialTimeout,
		ReadTimeout:           o.ReadTimeout,
		WriteTimeout:          o.WriteTimeout,
		MaxRetries:            o.MaxRetries,
	}
	for _, f := range set {
		f(co)
	}
	c := redis.NewClusterClient(co)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Options returns client options for the server, set up as the package
// documentation advises for request paths: every call bounded by its ctx.
func (s *Server) Options() *redis.Options {
	return &redis.Options{
		Addr:                  s.Addr,
		ContextTimeoutEnabled: true,
		DialTimeout:           2 * time.Second,
		ReadTimeout:           5 * time.Second,
		WriteTimeout:          5 * time.Second,
		MaxRetries:            1,
	}
}

// Client returns a new client of the server, closed when the test ends.
func (s *Server) Client(tb testing.TB) *redis.Client {
	tb.Helper()
	c := redis.NewClient(s.Options())
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// FlushAll empties the server.
func (s *Server) FlushAll(tb testing.TB) {
	tb.Helper()
	c := redis.NewClient(s.Options())
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.FlushAll(ctx).Err(); err != nil {
		tb.Fatalf("FLUSHALL: %v", err)
	}
}

// A Counter is a go-redis hook that counts what a client sends: commands by
// name, and round trips (a pipeline is one round trip of many commands).
// Unlike INFO's totals, it does not count the commands a script runs inside
// Redis. Add it with client.AddHook. Its methods are safe for concurrent use.
type Counter struct {
	roundTrips atomic.Int64
	commands   atomic.Int64

	mu     sync.Mutex
	byName map[string]int64
}

var _ redis.Hook = (*Counter)(nil)

// DialHook passes dials through uncounted.
func (c *Counter) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook counts one round trip and one command.
func (c *Counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.roundTrips.Add(1)
		c.count(cmd)
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook counts one round trip and each command in the pipeline.
func (c *Counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.roundTrips.Add(1)
		for _, cmd := range cmds {
			c.count(cmd)
		}
		return next(ctx, cmds)
	}
}

func (c *Counter) count(cmd redis.Cmder) {
	c.commands.Add(1)
	c.mu.Lock()
	if c.byName == nil {
		c.byName = make(map[string]int64)
	}
	c.byName[cmd.Name()]++
	c.mu.Unlock()
}

// RoundTrips returns the number of calls and pipelines sent so far.
func (c *Counter) RoundTrips() int64 { return c.roundTrips.Load() }

// Commands returns the number of commands sent so far, pipelined or not.
func (c *Counter) Commands() int64 { return c.commands.Load() }

// ByName returns how many commands named name (lower case, as go-redis
// names them: "evalsha", "eval", "script") were sent so far.
func (c *Counter) ByName(name string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byName[name]
}

// Reset sets every count to zero.
func (c *Counter) Reset() {
	c.mu.Lock()
	c.byName = nil
	c.roundTrips.Store(0)
	c.commands.Store(0)
	c.mu.Unlock()
}

// ReplicaOf makes s a replica of master, reached at via (master.Addr, or
// the address of a proxy in front of it, to cut the link later), and waits
// until s reports its link up (master_link_status:up in INFO replication),
// which is after the first full synchronization. It first sets master's
// repl-diskless-sync-delay to 0, so that the synchronization starts at once
// rather than 5s later, Redis 7's default. It fails tb if the link is not
// up within the start timeout.
func (s *Server) ReplicaOf(tb testing.TB, master *Server, via string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	m, c := redis.NewClient(master.Options()), redis.NewClient(s.Options())
	defer m.Close()
	defer c.Close()
	if err := m.ConfigSet(ctx, "repl-diskless-sync-delay", "0").Err(); err != nil {
		tb.Fatalf("redistest: CONFIG SET repl-diskless-sync-delay on %s: %v", master.Addr, err)
	}
	host, port, err := net.SplitHostPort(via)
	if err == nil {
		err = c.ReplicaOf(ctx, host, port).Err()
	}
	if err != nil {
		tb.Fatalf("redistest: REPLICAOF %s on %s: %v", via, s.Addr, err)
	}
	for {
		info, err := c.Info(ctx, "replication").Result()
		if err == nil && strings.Contains(info, "master_link_status:up") {
			return
		}
		if ctx.Err() != nil {
			tb.Fatalf("redistest: replica %s of %s: link not up within %v: %q, %v", s.Addr, via, startTimeout, info, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
