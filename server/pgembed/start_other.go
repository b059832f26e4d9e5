//go:build !unix

package pgembed

import (
	"context"
	"errors"
)

// Start is not available on this operating system.
func Start(context.Context, Options) (*Cluster, error) {
	return nil, errors.New("pgembed: the embedded PostgreSQL cluster needs a Unix system; set CERTCTL_DATABASE_URL to use an existing server")
}
