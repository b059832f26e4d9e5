package plugin

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/grpc"
)

func TestRecoverPanicsFailsTheCallPermanently(t *testing.T) {
	// Two bytes a rune after one: the limit falls inside a rune.
	long := "x" + strings.Repeat("é", maxPanicText)
	for _, tc := range []struct {
		name  string
		value any
		want  string
	}{
		{"string", "boom", "plugin panicked: boom"},
		{"error", errors.New("nil map"), "plugin panicked: nil map"},
		{"long", long, "plugin panicked: " + long[:maxPanicText-1] + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			intercept := recoverPanics(newPluginLogger(&logs, 0))
			info := &grpc.UnaryServerInfo{FullMethod: "/certctl.plugin.v1.Issuer/IssueCertificate"}
			resp, err := intercept(context.Background(), nil, info, func(context.Context, any) (any, error) {
				panic(tc.value)
			})
			if resp != nil {
				t.Errorf("response %v after a panic", resp)
			}
			got := fromStatus(context.Background(), err)
			if ErrorCode(got) != CodePermanent || Retryable(got) {
				t.Fatalf("error %v (code %s), want permanent", got, ErrorCode(got))
			}
			if msg := got.(*Error).Message; msg != tc.want {
				t.Errorf("message %q, want %q", msg, tc.want)
			}
			if !utf8.ValidString(got.(*Error).Message) {
				t.Error("message is not valid UTF-8")
			}
			if !strings.Contains(logs.String(), `"@message":"plugin panicked"`) ||
				!strings.Contains(logs.String(), "TestRecoverPanicsFailsTheCallPermanently") {
				t.Errorf("log has no panic with its stack: %s", logs.String())
			}
		})
	}
	// A call that does not panic passes through untouched.
	intercept := recoverPanics(newPluginLogger(&bytes.Buffer{}, 0))
	resp, err := intercept(context.Background(), nil, &grpc.UnaryServerInfo{}, func(context.Context, any) (any, error) {
		return "ok", nil
	})
	if resp != "ok" || err != nil {
		t.Errorf("plain call: %v %v", resp, err)
	}
}
