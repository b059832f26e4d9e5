// This file builds the environment of the programs pgembed runs.

package pgembed

import "strings"

// childEnv returns the whole environment of every program pgembed runs
// (initdb, postgres, pg_config), built from environ, this process'
// environment: PATH, TZ when set (initdb takes the cluster's default time
// zone from it), and LC_ALL=C, which initdb's --locale=C also sets for the
// cluster. Nothing else is passed on: certctl's own variables
// (CERTCTL_ENCRYPTION_KEY, CERTCTL_BOOTSTRAP_ADMIN_KEY, ...) would otherwise
// be readable in /proc/<pid>/environ by the cluster's OS user and, through
// pg_read_binary_file, by any superuser session; PG* variables would change
// what the programs do.
func childEnv(environ []string) []string {
	env := []string{"LC_ALL=C"}
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if name == "PATH" || name == "TZ" {
			env = append(env, kv)
		}
	}
	return env
}
