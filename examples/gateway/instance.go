package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// shutdownTimeout bounds how long an instance waits for its requests to
// end when it stops.
const shutdownTimeout = 10 * time.Second

// An instance is one gateway serving HTTP on its own listener.
type instance struct {
	gw     *gateway
	srv    *http.Server
	url    string     // base URL
	served chan error // Serve's result
}

// startInstances starts one instance per Limiter of b: the first listens
// on cfg.Listen, the others on a free port of the same host.
func startInstances(cfg config, b *backend, tr *tracker) ([]*instance, error) {
	host, _, _ := net.SplitHostPort(cfg.Listen) // checked by cfg.check
	var insts []*instance
	for i, l := range b.limiters {
		addr := cfg.Listen
		if i > 0 {
			addr = net.JoinHostPort(host, "0")
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("listen: %w", err), stopInstances(insts))
		}
		gw := &gateway{
			limiter: l,
			limits:  limits{user: cfg.UserLimit, account: cfg.AccountLimit, userWait: cfg.UserWait},
			stream:  streamSpec{chunks: cfg.Chunks, every: cfg.ChunkEvery},
			tracker: tr,
			stats:   new(gatewayStats),
		}
		mux := http.NewServeMux()
		mux.Handle("GET /stream", gw)
		in := &instance{
			gw:     gw,
			srv:    &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
			url:    "http://" + ln.Addr().String(),
			served: make(chan error, 1),
		}
		go func() { in.served <- in.srv.Serve(ln) }()
		insts = append(insts, in)
	}
	return insts, nil
}

// stopInstances shuts every instance down, waiting for its requests to end.
func stopInstances(insts []*instance) error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	var errs []error
	for _, in := range insts {
		if err := in.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", in.url, err))
			_ = in.srv.Close() // cut what is left
		}
		if err := <-in.served; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("serve %s: %w", in.url, err))
		}
	}
	return errors.Join(errs...)
}
