package falsereports2

import (
	"log"
	"net/http"

	"github.com/ctxguard/release/slots"
)

// handleStatusCopy compares a copy of the status, taken for the log: the
// copy stands for the status.
func handleStatusCopy(w http.ResponseWriter, r *http.Request, l slots.Limiter) {
	rel, st := acquireAccountSlot(r.Context(), l, "a")
	result := st
	log.Printf("account slot: %v", result)
	if result != statusOK {
		http.Error(w, "busy", http.StatusTooManyRequests)
		return
	}
	defer rel()
	_ = step()
}
