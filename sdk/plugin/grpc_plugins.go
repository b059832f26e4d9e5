package plugin

import (
	"context"
	"strings"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/certctl/certctl/sdk/plugin/proto/pluginv1"
)

type grpcCallOption = grpc.CallOption

// Handshake returns the go-plugin handshake for a kind: one magic cookie
// per kind, so that a target plugin cannot be started as an issuer. The
// cookie is not a security measure; it only stops a plugin binary from
// being run by hand or by the wrong host.
func Handshake(kind Kind) goplugin.HandshakeConfig {
	return goplugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   "CERTCTL_PLUGIN_" + strings.ToUpper(string(kind)),
		MagicCookieValue: cookies[kind],
	}
}

var cookies = map[Kind]string{
	KindIssuer:   "3d3b5a4e-issuer-7f8c-certctl",
	KindTarget:   "9a1c6e2b-target-4d5f-certctl",
	KindNotifier: "5e7f0b9d-notifier-1a2b-certctl",
}

// pluginSets returns the go-plugin VersionedPlugins for a kind: the
// protocol versions this SDK speaks, each with its one plugin named after
// the kind. impl is nil on the host side.
func pluginSets(kind Kind, impl Plugin) map[int]goplugin.PluginSet {
	return map[int]goplugin.PluginSet{
		ProtocolVersion: {string(kind): &grpcPlugin{kind: kind, impl: impl}},
	}
}

// grpcPlugin is the go-plugin glue for every kind: it registers the
// server on the plugin side and makes the client on the host side.
type grpcPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	kind Kind
	impl Plugin
}

func (p *grpcPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	switch p.kind {
	case KindIssuer:
		pb.RegisterIssuerServer(s, &issuerServer{impl: p.impl.(Issuer)})
	case KindTarget:
		pb.RegisterTargetServer(s, &targetServer{impl: p.impl.(Target)})
	case KindNotifier:
		pb.RegisterNotifierServer(s, &notifierServer{impl: p.impl.(Notifier)})
	}
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	switch p.kind {
	case KindIssuer:
		return &issuerClient{c: pb.NewIssuerClient(c)}, nil
	case KindTarget:
		return &targetClient{c: pb.NewTargetClient(c)}, nil
	default:
		return &notifierClient{c: pb.NewNotifierClient(c)}, nil
	}
}
