// Command exitatstart stands for a plugin binary that cannot start: it
// says why on its standard error and exits with status 3, before any
// handshake, as a plugin whose setup fails does.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "exitatstart: cannot open /nonexistent/ca.pem: no such file or directory")
	os.Exit(3)
}
