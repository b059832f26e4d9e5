package plugin

import (
	"context"

	pb "github.com/certctl/certctl/sdk/plugin/proto/pluginv1"
)

// targetServer serves a Target over gRPC (plugin side).
type targetServer struct {
	pb.UnimplementedTargetServer
	impl Target
}

func (s *targetServer) Info(ctx context.Context, _ *pb.InfoRequest) (*pb.InfoResponse, error) {
	return serveInfo(ctx, s.impl)
}

func (s *targetServer) ValidateConfig(ctx context.Context, r *pb.ValidateConfigRequest) (*pb.ValidateConfigResponse, error) {
	return serveValidate(ctx, s.impl, r.GetConfigJson())
}

func (s *targetServer) DeployCertificate(ctx context.Context, r *pb.DeployRequest) (*pb.DeployResponse, error) {
	cfg, err := configArg(r.GetConfigJson())
	if err != nil {
		return nil, err
	}
	res, err := s.impl.DeployCertificate(ctx, DeployRequest{Config: cfg, CertificatePEM: r.GetCertificatePem(),
		ChainPEM: r.GetChainPem(), PrivateKeyPEM: r.GetPrivateKeyPem(), Metadata: r.GetMetadata(), DryRun: r.GetDryRun()})
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.DeployResponse{Changed: res.Changed, Message: res.Message, Metadata: res.Metadata}, nil
}

func (s *targetServer) ValidateDeployment(ctx context.Context, r *pb.ValidateDeploymentRequest) (*pb.ValidateDeploymentResponse, error) {
	cfg, err := configArg(r.GetConfigJson())
	if err != nil {
		return nil, err
	}
	res, err := s.impl.ValidateDeployment(ctx, ValidateDeploymentRequest{Config: cfg, SerialNumber: r.GetSerialNumber()})
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.ValidateDeploymentResponse{Valid: res.Valid, ServedSerial: res.ServedSerial, Message: res.Message}, nil
}

// targetClient is a Target backed by a plugin process (host side).
type targetClient struct {
	c pb.TargetClient
}

func (c *targetClient) Info(ctx context.Context) (Info, error) {
	r, err := c.c.Info(ctx, &pb.InfoRequest{})
	if err != nil {
		return Info{}, fromStatus(ctx, err)
	}
	return infoFromProto(r)
}

func (c *targetClient) ValidateConfig(ctx context.Context, req ValidateConfigRequest) error {
	raw, err := MarshalConfig(req.Config)
	if err != nil {
		return err
	}
	_, err = c.c.ValidateConfig(ctx, &pb.ValidateConfigRequest{ConfigJson: raw})
	return fromStatus(ctx, err)
}

func (c *targetClient) DeployCertificate(ctx context.Context, req DeployRequest) (DeployResult, error) {
	raw, err := MarshalConfig(req.Config)
	if err != nil {
		return DeployResult{}, err
	}
	r, err := c.c.DeployCertificate(ctx, &pb.DeployRequest{ConfigJson: raw, CertificatePem: req.CertificatePEM,
		ChainPem: req.ChainPEM, PrivateKeyPem: req.PrivateKeyPEM, Metadata: req.Metadata, DryRun: req.DryRun})
	if err != nil {
		return DeployResult{}, fromStatus(ctx, err)
	}
	return DeployResult{Changed: r.GetChanged(), Message: r.GetMessage(), Metadata: r.GetMetadata()}, nil
}

func (c *targetClient) ValidateDeployment(ctx context.Context, req ValidateDeploymentRequest) (ValidateDeploymentResult, error) {
	raw, err := MarshalConfig(req.Config)
	if err != nil {
		return ValidateDeploymentResult{}, err
	}
	r, err := c.c.ValidateDeployment(ctx, &pb.ValidateDeploymentRequest{ConfigJson: raw, SerialNumber: req.SerialNumber})
	if err != nil {
		return ValidateDeploymentResult{}, fromStatus(ctx, err)
	}
	return ValidateDeploymentResult{Valid: r.GetValid(), ServedSerial: r.GetServedSerial(), Message: r.GetMessage()}, nil
}
