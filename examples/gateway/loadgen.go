package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// requestTimeout bounds each request of the load generator: a hang guard,
// far longer than any request waits and streams.
const requestTimeout = 10 * time.Second

// thinkTime is how long a client waits after each request before the next:
// refused clients do not spin, and a client whose stream just ended does not
// take the place in line that a refused one was waiting for.
const thinkTime = 50 * time.Millisecond

// A visitor is one client of the load generator: it sends requests one after
// another, as one user of one account, to one gateway instance.
type visitor struct {
	url         string // the request URL
	hangUpAfter int    // chunks read before it hangs up; 0: reads to the end
}

// A loadgen drives the gateway instances with its visitors and counts what
// they see.
type loadgen struct {
	client   *http.Client
	visitors []visitor
	chunks   int // the chunks of a whole stream

	requests, served, hungUp atomic.Int64
	refusedN                 atomic.Int64
	// The requests that began while Redis did not answer, and how they
	// ended: outage says whether it answers now.
	outage                                      func() bool
	outageRequests, outageServed, outageRefused atomic.Int64
	refusedMu                                   sync.Mutex
	refused                                     map[string]int64 // by reason
	errs                                        errorLog         // what no client should see
}

// newLoadgen makes clientsPerUser visitors for every user of cfg, each
// user's spread over targets (base URLs), and every cfg.HangUpEvery-th
// visitor hanging up in the middle of its streams.
func newLoadgen(cfg config, targets []string, outage func() bool) *loadgen {
	lg := &loadgen{
		outage: outage,
		client: &http.Client{Transport: &http.Transport{
			Proxy:               nil, // loopback only, whatever the environment says
			MaxIdleConnsPerHost: cfg.clients(),
		}},
		chunks:  cfg.Chunks,
		refused: make(map[string]int64),
	}
	for _, u := range cfg.users() {
		for range cfg.ClientsPerUser {
			id := len(lg.visitors)
			q := url.Values{"user": {u.user}, "account": {u.account}}
			v := visitor{url: targets[id%len(targets)] + "/stream?" + q.Encode()}
			if cfg.HangUpEvery > 0 && id%cfg.HangUpEvery == cfg.HangUpEvery-1 {
				v.hangUpAfter = 1 + (id/cfg.HangUpEvery)%(cfg.Chunks-1)
			}
			lg.visitors = append(lg.visitors, v)
		}
	}
	return lg
}

// run sends requests from every visitor at once until d has passed, or ctx
// is done. If cover is longer than d, it goes on past d until covered
// reports true, for at most cover in all. Requests in flight at the end
// finish first.
func (lg *loadgen) run(ctx context.Context, d, cover time.Duration, covered func() bool) {
	start := time.Now()
	done := func() bool {
		since := time.Since(start)
		return ctx.Err() != nil || since >= max(d, cover) || since >= d && covered()
	}
	var wg sync.WaitGroup
	for _, v := range lg.visitors {
		wg.Go(func() {
			for !done() {
				lg.request(ctx, v)
				pause(ctx, thinkTime)
			}
		})
	}
	wg.Wait()
}

func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// request sends one request of v and counts its outcome.
func (lg *loadgen) request(ctx context.Context, v visitor) {
	lg.requests.Add(1)
	during := lg.outage()
	if during {
		lg.outageRequests.Add(1)
	}
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, v.url, nil)
	if err != nil {
		lg.fail(ctx, err)
		return
	}
	resp, err := lg.client.Do(req)
	if err != nil {
		lg.fail(ctx, err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		reason := resp.Header.Get(reasonHeader)
		if reason == "" {
			lg.fail(ctx, fmt.Errorf("GET %s: %s", v.url, resp.Status))
			return
		}
		lg.refusedMu.Lock()
		lg.refused[fmt.Sprintf("%s (%d)", reason, resp.StatusCode)]++
		lg.refusedMu.Unlock()
		lg.refusedN.Add(1)
		if during {
			lg.outageRefused.Add(1)
		}
		return
	}
	if lg.read(ctx, resp.Body, v, cancel) && during {
		lg.outageServed.Add(1)
	}
}

// read reads a stream to its end, or hangs up (cancels the request's
// context) after v.hangUpAfter chunks. It reports whether the stream was
// served whole.
func (lg *loadgen) read(ctx context.Context, body io.Reader, v visitor, hangUp context.CancelFunc) bool {
	br := bufio.NewReader(body)
	for n := 0; ; {
		_, err := br.ReadString('\n')
		if errors.Is(err, io.EOF) && n == lg.chunks {
			lg.served.Add(1)
			return true
		}
		if err != nil {
			lg.fail(ctx, fmt.Errorf("GET %s: stream cut after %d of %d chunks: %w", v.url, n, lg.chunks, err))
			return false
		}
		n++
		if n == v.hangUpAfter {
			hangUp()
			lg.hungUp.Add(1)
			return false
		}
	}
}

// fail counts err, unless ctx is done: an interrupted run is no failure.
func (lg *loadgen) fail(ctx context.Context, err error) {
	if ctx.Err() == nil {
		lg.errs.add(err)
	}
}

// close closes the idle connections of the load generator's client.
func (lg *loadgen) close() { lg.client.CloseIdleConnections() }

// refusals returns the count of refusals by reason.
func (lg *loadgen) refusals() map[string]int64 {
	lg.refusedMu.Lock()
	defer lg.refusedMu.Unlock()
	return maps.Clone(lg.refused)
}
