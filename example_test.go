package release_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"github.com/ctxguard/release"
)

// This example guards a slot taken from a limiter: free frees it, and
// later calls, and the end of the context, do nothing more.
func ExampleWrapOnDone() {
	slots := make(chan struct{}, 1) // a limiter with one slot
	ctx, cancel := context.WithCancel(context.Background())

	slots <- struct{}{} // take the slot
	free := release.WrapOnDone(ctx, func() {
		<-slots
		fmt.Println("slot freed")
	})
	free()
	free()
	cancel()
	fmt.Println("slots in use:", len(slots))
	// Output:
	// slot freed
	// slots in use: 0
}

// This example shows the context winning: the slot is freed when ctx is
// done, and the call of free the caller makes later does nothing.
func ExampleWrapOnDone_contextDone() {
	slots := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	freed := make(chan struct{})

	slots <- struct{}{}
	free := release.WrapOnDone(ctx, func() {
		<-slots
		close(freed)
	})
	cancel() // fn runs on a goroutine of its own
	<-freed
	fmt.Println("slots in use:", len(slots))
	free() // fn has run; this does nothing
	fmt.Println("slots in use:", len(slots))
	// Output:
	// slots in use: 0
	// slots in use: 0
}

// This example limits an HTTP handler to a few requests at a time. The
// handler frees its slot with defer free(), and a client that hangs up
// frees it at once, although the handler is still busy.
func ExampleWrapOnDone_httpHandler() {
	slots := make(chan struct{}, 2) // at most two requests at a time
	busy := make(chan struct{})
	freed := make(chan struct{})
	upstream := make(chan struct{}) // a slow upstream that ignores the request's context
	handlerDone := make(chan struct{})

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(handlerDone)
		select {
		case slots <- struct{}{}:
		default:
			http.Error(w, "too many requests", http.StatusServiceUnavailable)
			return
		}
		free := release.WrapOnDone(r.Context(), func() {
			<-slots
			close(freed)
		})
		defer free()

		close(busy)
		<-upstream
	}))
	defer srv.Close()

	ctx, hangUp := context.WithCancel(context.Background())
	clientDone := make(chan struct{})
	go func() {
		defer close(clientDone)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		if resp, err := srv.Client().Do(req); err == nil {
			resp.Body.Close()
		}
	}()

	<-busy
	fmt.Println("handler busy; slots in use:", len(slots))
	hangUp()
	<-freed
	<-clientDone
	fmt.Println("client hung up; slots in use:", len(slots))
	close(upstream)
	<-handlerDone
	fmt.Println("handler returned; slots in use:", len(slots))
	// Output:
	// handler busy; slots in use: 1
	// client hung up; slots in use: 0
	// handler returned; slots in use: 0
}

// This example counts the slots that client hang-ups gave back: fn gets a
// nil cause when the handler released its slot itself, and the context's
// cause when the client hung up first.
func ExampleWrapOnDoneCause() {
	slots := make(chan struct{}, 4)
	var freedByHangUp atomic.Int32
	busy := make(chan struct{}, 1)
	freed := make(chan struct{}, 1)
	upstream := make(chan struct{}) // a slow upstream that ignores the request's context

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slots <- struct{}{}
		free := release.WrapOnDoneCause(r.Context(), func(cause error) {
			<-slots
			if cause != nil {
				freedByHangUp.Add(1)
			}
			freed <- struct{}{}
		})
		defer free()

		if r.URL.Path == "/slow" {
			busy <- struct{}{}
			<-upstream
		}
	}))
	defer srv.Close()

	// A request that completes: the handler frees its slot.
	if resp, err := srv.Client().Get(srv.URL + "/fast"); err == nil {
		resp.Body.Close()
	}
	<-freed

	// A request whose client hangs up while the handler waits.
	ctx, hangUp := context.WithCancel(context.Background())
	clientDone := make(chan struct{})
	go func() {
		defer close(clientDone)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/slow", nil)
		if resp, err := srv.Client().Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-busy
	hangUp()
	<-freed
	<-clientDone
	fmt.Println("slots in use:", len(slots), "freed by hang-ups:", freedByHangUp.Load())
	close(upstream)
	// Output:
	// slots in use: 0 freed by hang-ups: 1
}
