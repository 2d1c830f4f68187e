module github.com/ctxguard/release/lostrelease/golangci

go 1.25.0

require (
	github.com/ctxguard/release/lostrelease v0.1.0
	github.com/golangci/plugin-module-register v0.1.2
	go.uber.org/goleak v1.3.0
	golang.org/x/tools v0.49.0
)

replace github.com/ctxguard/release/lostrelease => ../
