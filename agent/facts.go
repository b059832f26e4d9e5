package agent

import (
	"context"
	"net"
	"net/url"
	"os"
	"runtime"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/plugin/host"
)

// Version is the agent's version, set at build time with -ldflags.
var Version = "dev"

// facts reads what the agent reports about its host.
func (a *Agent) facts(ctx context.Context) api.AgentFacts {
	hostname, _ := os.Hostname()
	f := api.AgentFacts{OS: runtime.GOOS, Arch: runtime.GOARCH, Hostname: hostname, AgentVersion: Version,
		UptimeSeconds: int64(time.Since(a.started).Seconds()), IPAddress: outboundIP(ctx, a.cfg.ServerURL),
		Plugins: []api.AgentPlugin{}}
	if a.plugins != nil {
		for _, p := range a.plugins.Plugins() {
			if p.Status != host.StatusInvalid && p.Status != host.StatusChecksumMismatch {
				f.Plugins = append(f.Plugins, api.AgentPlugin{Name: p.Name, Kind: string(p.Kind), Version: p.Version})
			}
		}
	}
	return f
}

// outboundIP is the local address this host uses to reach the server: the
// source address of a UDP "connection" toward it, which sends no packet.
func outboundIP(ctx context.Context, serverURL string) string {
	u, err := url.Parse(serverURL)
	if err != nil {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return ""
	}
	defer conn.Close()
	if a, ok := conn.LocalAddr().(*net.UDPAddr); ok {
		return a.IP.String()
	}
	return ""
}
