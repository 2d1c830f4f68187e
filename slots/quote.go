package slots

import (
	"strconv"
	"unicode/utf8"
)

// maxQuotedKey is the longest part of a key that QuoteKey quotes.
const maxQuotedKey = 64

// QuoteKey quotes key for an error message, as every Limiter of this
// module family does: whole, with [strconv.Quote], when it is at most 64
// bytes long; else its first 64 bytes (cut back to a character boundary),
// quoted, then "..." and its length in bytes, so that a huge key does not
// make a huge error:
//
//	"user:42"
//	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"... (100 bytes)
func QuoteKey(key string) string {
	if len(key) <= maxQuotedKey {
		return strconv.Quote(key)
	}
	cut := maxQuotedKey
	for cut > 0 && !utf8.RuneStart(key[cut]) {
		cut--
	}
	return strconv.Quote(key[:cut]) + "... (" + strconv.Itoa(len(key)) + " bytes)"
}
