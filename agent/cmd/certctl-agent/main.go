// Command certctl-agent runs certctl's agent on a host: it enrolls with the
// server once, then keeps its certificates issued (keys made here, never
// sent) and deployed through its target plugins.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/certctl/certctl/agent"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "certctl-agent:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	cfg, err := agent.ParseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", cfg.LogLevel)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	a, err := agent.New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx)
}
