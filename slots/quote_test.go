package slots_test

import (
	"strings"
	"testing"

	"github.com/ctxguard/release/slots"
)

func TestQuoteKeyQuotesAShortKeyWholeAndALongOneCut(t *testing.T) {
	long := strings.Repeat("a", 63) + "é" + strings.Repeat("b", 100) // é spans bytes 63 and 64
	tests := []struct{ key, want string }{
		{"user:42", `"user:42"`},
		{"", `""`},
		{"tab\there", `"tab\there"`},
		{strings.Repeat("x", 64), `"` + strings.Repeat("x", 64) + `"`},
		{strings.Repeat("x", 65), `"` + strings.Repeat("x", 64) + `"... (65 bytes)`},
		{long, `"` + strings.Repeat("a", 63) + `"... (165 bytes)`},
	}
	for _, tt := range tests {
		if got := slots.QuoteKey(tt.key); got != tt.want {
			t.Errorf("QuoteKey(%.20q...) = %s; want %s", tt.key, got, tt.want)
		}
	}
}
