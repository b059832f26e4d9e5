// Command certctl-server runs certctl's control plane: the REST API, the
// lifecycle engine and, unless CERTCTL_DATABASE_URL is set, its own
// embedded PostgreSQL cluster.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/certctl/certctl/server/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "certctl-server:", err)
		os.Exit(1)
	}
}
