package slots

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// keyError is ErrFull or ErrQueueFull for one key, so that a caller that
// takes several kinds of slot can tell which was full.
type keyError struct {
	err error // ErrFull or ErrQueueFull
	key string
}

func (e *keyError) Error() string {
	return e.err.Error() + " for key " + strconv.Quote(shortKey(e.key))
}

func (e *keyError) Unwrap() error { return e.err }

var errEmptyKey = errors.New("slots: empty key")

// checkArgs says what is wrong with key and limit, if anything.
func checkArgs(key string, limit int) error {
	if key == "" {
		return errEmptyKey
	}
	if limit < 1 {
		return fmt.Errorf("slots: limit %d for key %q is less than 1", limit, shortKey(key))
	}
	return nil
}

// maxKeyInError is how many bytes of a key an error quotes.
const maxKeyInError = 64

// shortKey returns key, or its first maxKeyInError bytes (cut at a rune
// boundary) followed by "...", so that a long key does not flood a log.
func shortKey(key string) string {
	if len(key) <= maxKeyInError {
		return key
	}
	n := maxKeyInError
	for n > 0 && !utf8.RuneStart(key[n]) {
		n--
	}
	return key[:n] + "..."
}
