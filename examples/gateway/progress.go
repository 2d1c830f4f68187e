package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progressEvery is how often the progress line is written.
const progressEvery = time.Second

// startProgress writes a progress line to w about once a second, until
// stop is called; stop returns when the last line is written. On a
// terminal the line rewrites itself; elsewhere each is a line of its own.
// Nothing is written if w is nil.
func startProgress(w io.Writer, lg *loadgen, b *backend, keys []string) (stop func()) {
	if w == nil {
		return func() {}
	}
	start := time.Now()
	quit, done := make(chan struct{}), make(chan struct{})
	live := isTerminal(w)
	go func() {
		defer close(done)
		tick := time.NewTicker(progressEvery)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				if live {
					fmt.Fprintln(w)
				}
				return
			case <-tick.C:
				line := progressLine(time.Since(start), lg, b, keys)
				if live {
					fmt.Fprintf(w, "\r%s\x1b[K", line)
				} else {
					fmt.Fprintln(w, line)
				}
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

// progressLine says what the visitors saw so far, and how many hold and
// wait for slots now, as the first Limiter sees them.
func progressLine(elapsed time.Duration, lg *loadgen, b *backend, keys []string) string {
	line := fmt.Sprintf("%5.1fs  requests %d  served %d  refused %d  hung up %d",
		elapsed.Seconds(), lg.requests.Load(), lg.served.Load(), lg.refusedN.Load(), lg.hungUp.Load())
	ctx, cancel := context.WithTimeout(context.Background(), progressEvery/2)
	defer cancel()
	loads, err := b.limiters[0].Load(ctx, keys...)
	if err != nil {
		return line + "  (" + shortError(err) + ")"
	}
	var inUse, waiting int
	for _, l := range loads {
		inUse += l.InUse
		waiting += l.Waiting
	}
	return line + fmt.Sprintf("  slots held %d  waiting %d", inUse, waiting)
}

// shortError is err on one line: Load joins an error per key that failed,
// so an outage would fill the screen; the first stands for the rest.
func shortError(err error) string {
	var errs []error
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	if len(errs) < 2 {
		return strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	return fmt.Sprintf("%v, and %d more keys", errs[0], len(errs)-1)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
