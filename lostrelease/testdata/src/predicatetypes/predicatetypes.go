// Package predicatetypes defines a status type and its predicate, and
// knows nothing of guards: its predicate's fact is exported all the same.
package predicatetypes

// A Code says how an acquisition went.
type Code int

const (
	OK Code = iota
	Busy
)

// Held reports whether a guard was taken.
func (c Code) Held() bool { return c == OK } // want Held:"isPredicate true:0 false:!0"
