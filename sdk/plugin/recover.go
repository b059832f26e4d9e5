package plugin

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"unicode/utf8"

	"google.golang.org/grpc"
)

// maxPanicText bounds the panic value carried in a call's error: it ends
// up in job records and alerts, and a gRPC status travels in headers that
// have a size limit of their own.
const maxPanicText = 1024

// recoverPanics is the unary interceptor Serve installs: a panic in a
// plugin's method (or in the SDK's code around it) fails that one call
// with a CodePermanent error saying "plugin panicked: <value>", and is
// logged with its stack, instead of ending the process and every other
// call in flight on it. Repeating the same request would most likely
// panic again, so the host does not retry it.
//
// Only the goroutine that serves the call is covered: a panic in a
// goroutine the plugin starts itself still ends the process.
func recoverPanics(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if v := recover(); v != nil {
				text := panicText(v)
				logger.Error("plugin panicked", "method", info.FullMethod, "panic", text, "stack", string(debug.Stack()))
				resp, err = nil, toStatus(Errorf(CodePermanent, "plugin panicked: %s", text))
			}
		}()
		return handler(ctx, req)
	}
}

// panicText is a panic value as text, at most maxPanicText bytes of valid
// UTF-8.
func panicText(v any) string {
	s := strings.ToValidUTF8(fmt.Sprint(v), "\uFFFD")
	if len(s) <= maxPanicText {
		return s
	}
	cut := maxPanicText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
