package plugin

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
)

// Serve runs p as a plugin until its host stops it. A plugin's main is:
//
//	func main() { plugin.Serve(myIssuer{}) }
//
// p must implement Issuer, Target or Notifier, matching the Kind its Info
// reports, and its schema must be valid; otherwise Serve prints why and
// exits with status 1. Run by hand rather than by a certctl host, the
// binary says so and exits.
func Serve(p Plugin) {
	if err := checkPlugin(p); err != nil {
		fmt.Fprintln(os.Stderr, "certctl plugin:", err)
		os.Exit(1)
	}
	info, _ := p.Info(context.Background())
	go exitWithParent(os.Getppid(), time.Second)
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig:  Handshake(info.Kind),
		VersionedPlugins: pluginSets(info.Kind, p),
		GRPCServer:       goplugin.DefaultGRPCServer,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name: info.Name, Level: hclog.Info, Output: stderr, JSONFormat: true,
		}),
	})
}

// checkPlugin verifies that p is a well-formed plugin of the kind it claims.
func checkPlugin(p Plugin) error {
	info, err := p.Info(context.Background())
	if err != nil {
		return fmt.Errorf("Info: %w", err)
	}
	if info.Name == "" {
		return fmt.Errorf("Info: Name is empty")
	}
	var ok bool
	switch info.Kind {
	case KindIssuer:
		_, ok = p.(Issuer)
	case KindTarget:
		_, ok = p.(Target)
	case KindNotifier:
		_, ok = p.(Notifier)
	default:
		return fmt.Errorf("Info: Kind %q is not issuer, target or notifier", info.Kind)
	}
	if !ok {
		return fmt.Errorf("Info says kind %q but %T does not implement that interface", info.Kind, p)
	}
	return info.Schema.Check()
}

// exitWithParent ends the plugin when the host that started it is gone,
// even if the host was killed and could not stop it: the parent id
// changes when the process is re-parented. (On Linux the host also asks
// the kernel to kill the plugin with it; this covers other systems and
// hosts that do not.)
func exitWithParent(ppid int, every time.Duration) {
	if ppid <= 1 {
		return
	}
	for range time.Tick(every) {
		if os.Getppid() != ppid {
			os.Exit(0)
		}
	}
}
