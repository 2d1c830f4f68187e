package slots

import (
	"errors"
	"fmt"
)

// keyError is ErrFull or ErrQueueFull for one key, so that a caller that
// takes several kinds of slot can tell which was full. Its text is the
// sentinel's, then "for key" and the key quoted by [QuoteKey].
type keyError struct {
	err error // ErrFull or ErrQueueFull
	key string
}

func (e *keyError) Error() string { return e.err.Error() + " for key " + QuoteKey(e.key) }

func (e *keyError) Unwrap() error { return e.err }

var errEmptyKey = errors.New("slots: empty key")

// checkArgs says what is wrong with key and limit, if anything: the key
// first, then the limit.
func checkArgs(key string, limit int) error {
	if key == "" {
		return errEmptyKey
	}
	if limit < 1 {
		return fmt.Errorf("slots: limit %d for key %s is less than 1", limit, QuoteKey(key))
	}
	return nil
}
