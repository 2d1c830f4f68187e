package main

import (
	"maps"
	"testing"
	"time"
)

// INFO's counts: every command's calls but INFO's own, and the server's
// system and user CPU added up.
func TestParseRedisCounts(t *testing.T) {
	text := "# CPU\r\nused_cpu_sys:1.500000\r\nused_cpu_user:0.250000\r\nused_cpu_sys_children:9.000000\r\n" +
		"\r\n# Commandstats\r\n" +
		"cmdstat_evalsha:calls=10,usec=50,usec_per_call=5.00,rejected_calls=1,failed_calls=0\r\n" +
		"cmdstat_zadd:calls=7,usec=7,usec_per_call=1.00,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_client|setinfo:calls=2,usec=2,usec_per_call=1.00,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_info:calls=100,usec=900,usec_per_call=9.00,rejected_calls=0,failed_calls=0\r\n"
	got, err := parseRedisCounts(text)
	if err != nil {
		t.Fatal(err)
	}
	want := redisCounts{commands: 19, cpu: 1750 * time.Millisecond}
	if got.commands != want.commands || got.cpu != want.cpu {
		t.Errorf("parseRedisCounts = %+v; want %+v", got, want)
	}
	wantByName := commandCounts{"evalsha": 10, "zadd": 7, "client|setinfo": 2}
	if !maps.Equal(*got.byName, wantByName) {
		t.Errorf("parseRedisCounts by name = %v; want %v", *got.byName, wantByName)
	}
	if _, err := parseRedisCounts("# Commandstats\r\ncmdstat_get:calls=1\r\n"); err == nil {
		t.Error("parseRedisCounts without the CPU section returned no error")
	}
}
