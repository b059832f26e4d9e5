//go:build !unix

package pgtest

import "os"

const dirPrefix = "certctl-pgtest-"

// claim and removeAbandoned do nothing here: there is no embedded cluster.
func claim(string) (*os.File, error) { return nil, nil }

func removeAbandoned(string) {}
