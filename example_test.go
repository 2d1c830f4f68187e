package release_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/ctxguard/release"
)

// This example guards a slot taken from a limiter: release frees it, and
// later calls, and the end of the context, do nothing more.
func ExampleWrapOnDone() {
	slots := make(chan struct{}, 1) // a limiter with one slot
	ctx, cancel := context.WithCancel(context.Background())

	slots <- struct{}{} // take the slot
	release := release.WrapOnDone(ctx, func() {
		<-slots
		fmt.Println("slot freed")
	})
	release()
	release()
	cancel()
	fmt.Println("slots in use:", len(slots))
	// Output:
	// slot freed
	// slots in use: 0
}

// This example shows the context winning: the slot is freed when ctx is
// done, and the release the caller makes later does nothing.
func ExampleWrapOnDone_contextDone() {
	slots := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	freed := make(chan struct{})

	slots <- struct{}{}
	release := release.WrapOnDone(ctx, func() {
		<-slots
		close(freed)
	})
	cancel() // fn runs on a goroutine of its own
	<-freed
	fmt.Println("slots in use:", len(slots))
	release() // fn has run; this does nothing
	fmt.Println("slots in use:", len(slots))
	// Output:
	// slots in use: 0
	// slots in use: 0
}

// This example limits an HTTP handler to a few requests at a time. The
// handler frees its slot with defer release(), and a client that hangs up
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
		release := release.WrapOnDone(r.Context(), func() {
			<-slots
			close(freed)
		})
		defer release()

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
