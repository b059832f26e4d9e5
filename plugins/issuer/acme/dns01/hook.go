package dns01

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/certctl/certctl/plugins/internal/procgroup"
	"github.com/certctl/certctl/sdk/plugin"
)

// maxHookStderr bounds how much of a hook's stderr reaches the error.
const maxHookStderr = 4096

// hook publishes records by running a command the operator supplies, for
// DNS services that neither RFC 2136 nor lego reaches.
type hook struct {
	command []string
	timeout time.Duration
	res     *resolver
}

func newHook(cfg Config) (*hook, error) {
	if len(cfg.HookCommand) == 0 || cfg.HookCommand[0] == "" {
		return nil, plugin.InvalidConfig(FieldHookCommand, "is required with %s %q", FieldProvider, ProviderHook)
	}
	res, err := newResolver(cfg.Resolvers)
	if err != nil {
		return nil, err
	}
	t := cfg.HookTimeout
	if t <= 0 {
		t = DefaultHookTimeout
	}
	return &hook{command: cfg.HookCommand, timeout: t, res: res}, nil
}

func (h *hook) Present(ctx context.Context, ch Challenge) error { return h.run(ctx, "present", ch) }
func (h *hook) CleanUp(ctx context.Context, ch Challenge) error { return h.run(ctx, "cleanup", ch) }

func (h *hook) run(ctx context.Context, action string, ch Challenge) error {
	if err := ch.check(); err != nil {
		return err
	}
	fqdn, value := ch.Record()
	target, err := h.res.followCNAME(ctx, fqdn)
	if err != nil {
		return fmt.Errorf("dns01 hook: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	args := append(append([]string{}, h.command[1:]...), action, target, value)
	cmd := exec.CommandContext(ctx, h.command[0], args...)
	// Read the environment under legoMu: a lego provider being made for
	// another issuer has its credentials in it for that moment.
	legoMu.RLock()
	env := os.Environ()
	legoMu.RUnlock()
	cmd.Env = append(env,
		"CERTCTL_DNS_ACTION="+action,
		"CERTCTL_DNS_FQDN="+target,
		"CERTCTL_DNS_VALUE="+value,
		"CERTCTL_DNS_DOMAIN="+strings.TrimPrefix(ch.Domain, "*."),
	)
	stderr := &tailBuffer{max: maxHookStderr}
	cmd.Stderr = stderr
	// A timeout ends what the hook started too; and should a child it
	// leaves behind hold stderr open, stop waiting for it shortly after
	// the hook itself has ended.
	procgroup.Own(cmd)
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	if err == nil {
		return nil
	}
	what := fmt.Sprintf("dns01 hook: %s %s %s", h.command[0], action, target)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("killed at its deadline (%s %s, or the caller's if sooner): %w", FieldHookTimeout, h.timeout, err)
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		return fmt.Errorf("%s: %w: %s", what, err, s)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max       int
	buf       []byte
	truncated bool
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
		b.truncated = true
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	if b.truncated {
		return "..." + string(b.buf)
	}
	return string(b.buf)
}
