package plugin

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// BuildVersion is the version of the build that made the plugin binary,
// shown by --version next to the plugin's own Info.Version. Set it at
// build time: go build -ldflags "-X github.com/certctl/certctl/sdk/plugin.BuildVersion=v1.2.3"
// (certctl's make build does, with certctl's version). Empty shows none.
var BuildVersion string

// Serve runs p as a plugin until its host stops it. A plugin's main is:
//
//	func main() { plugin.Serve(myIssuer{}) }
//
// p must implement Issuer, Target or Notifier, matching the Kind its Info
// reports, and its schema must be valid; otherwise Serve prints why and
// exits with status 1. Run by hand rather than by a certctl host, the
// binary says so and exits, except with the one argument --version: then
// it prints its name, Info.Version, BuildVersion if set, and the Go
// version and platform on one line to stdout, and returns (status 0).
//
// A panic in one of p's methods fails that call alone: the host receives a
// CodePermanent error "plugin panicked: <value>", the panic and its stack
// are logged, and the process goes on serving its other calls.
func Serve(p Plugin) {
	if err := checkPlugin(p); err != nil {
		fmt.Fprintln(os.Stderr, "certctl plugin:", err)
		os.Exit(1)
	}
	info, _ := p.Info(context.Background())
	if len(os.Args) == 2 && (os.Args[1] == "--version" || os.Args[1] == "-version") {
		fmt.Fprintln(os.Stdout, versionLine(filepath.Base(os.Args[0]), info, BuildVersion))
		return
	}
	go exitWithParent(os.Getppid(), time.Second)
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig:  Handshake(info.Kind),
		VersionedPlugins: pluginSets(info.Kind, p),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, grpc.ChainUnaryInterceptor(recoverPanics(Logger())))...)
		},
		Logger: hclog.New(&hclog.LoggerOptions{
			Name: info.Name, Level: hclog.Info, Output: stderr, JSONFormat: true,
		}),
	})
}

// versionLine is what --version prints, e.g.
// "certctl-plugin-issuer-local 1.0.0 (issuer local, build v0.4.0, go1.26.8 linux/amd64)".
func versionLine(binary string, info Info, build string) string {
	details := []string{string(info.Kind) + " " + info.Name}
	if build != "" {
		details = append(details, "build "+build)
	}
	details = append(details, runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH)
	version := info.Version
	if version == "" {
		version = "unknown"
	}
	return fmt.Sprintf("%s %s (%s)", binary, version, strings.Join(details, ", "))
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
