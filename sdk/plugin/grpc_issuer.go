package plugin

import (
	"context"

	pb "github.com/certctl/certctl/sdk/plugin/proto/pluginv1"
)

// issuerServer serves an Issuer over gRPC (plugin side).
type issuerServer struct {
	pb.UnimplementedIssuerServer
	impl Issuer
}

func (s *issuerServer) Info(ctx context.Context, _ *pb.InfoRequest) (*pb.InfoResponse, error) {
	return serveInfo(ctx, s.impl)
}

func (s *issuerServer) ValidateConfig(ctx context.Context, r *pb.ValidateConfigRequest) (*pb.ValidateConfigResponse, error) {
	return serveValidate(ctx, s.impl, r.GetConfigJson())
}

func (s *issuerServer) Provision(ctx context.Context, r *pb.ProvisionRequest) (*pb.ProvisionResponse, error) {
	cfg, err := configArg(r.GetConfigJson())
	if err != nil {
		return nil, err
	}
	out, err := s.impl.Provision(ctx, ProvisionRequest{Config: cfg})
	if err != nil {
		return nil, toStatus(err)
	}
	raw, err := MarshalConfig(out.Config)
	return &pb.ProvisionResponse{ConfigJson: raw}, toStatus(err)
}

func issueRequestFromProto(r *pb.IssueRequest) (IssueRequest, error) {
	cfg, err := configArg(r.GetConfigJson())
	return IssueRequest{Config: cfg, CSR: r.GetCsrDer(), CommonName: r.GetCommonName(), SANs: r.GetSans(),
		Profile: r.GetProfile(), IdempotencyKey: r.GetIdempotencyKey(), Now: fromTS(r.GetNow()),
		OrderID: r.GetOrderId(), PresentedChallenges: r.GetPresentedChallenges()}, err
}

func issueRequestToProto(r IssueRequest) (*pb.IssueRequest, error) {
	raw, err := MarshalConfig(r.Config)
	return &pb.IssueRequest{ConfigJson: raw, CsrDer: r.CSR, CommonName: r.CommonName, Sans: r.SANs, Profile: r.Profile,
		IdempotencyKey: r.IdempotencyKey, Now: ts(r.Now), OrderId: r.OrderID,
		PresentedChallenges: r.PresentedChallenges}, err
}

func issueResultToProto(r IssueResult) *pb.IssueResponse {
	return &pb.IssueResponse{Status: r.Status, CertificatePem: r.CertificatePEM, ChainPem: r.ChainPEM, OrderId: r.OrderID,
		RetryAfter: dur(r.RetryAfter), RenewalWindowStart: ts(r.RenewalWindowStart), RenewalWindowEnd: ts(r.RenewalWindowEnd),
		Challenges: challengesToProto(r.Challenges)}
}

func challengesToProto(cs []Challenge) []*pb.Challenge {
	var out []*pb.Challenge
	for _, c := range cs {
		out = append(out, &pb.Challenge{Type: c.Type, Identifier: c.Identifier, Token: c.Token,
			KeyAuthorization: c.KeyAuthorization, Solver: c.Solver})
	}
	return out
}

func challengesFromProto(cs []*pb.Challenge) []Challenge {
	var out []Challenge
	for _, c := range cs {
		out = append(out, Challenge{Type: c.GetType(), Identifier: c.GetIdentifier(), Token: c.GetToken(),
			KeyAuthorization: c.GetKeyAuthorization(), Solver: c.GetSolver()})
	}
	return out
}

func issueResultFromProto(r *pb.IssueResponse) IssueResult {
	return IssueResult{Status: r.GetStatus(), CertificatePEM: r.GetCertificatePem(), ChainPEM: r.GetChainPem(),
		OrderID: r.GetOrderId(), RetryAfter: fromDur(r.GetRetryAfter()),
		RenewalWindowStart: fromTS(r.GetRenewalWindowStart()), RenewalWindowEnd: fromTS(r.GetRenewalWindowEnd()),
		Challenges: challengesFromProto(r.GetChallenges())}
}

func (s *issuerServer) IssueCertificate(ctx context.Context, r *pb.IssueRequest) (*pb.IssueResponse, error) {
	req, err := issueRequestFromProto(r)
	if err != nil {
		return nil, err
	}
	res, err := s.impl.IssueCertificate(ctx, req)
	if err != nil {
		return nil, toStatus(err)
	}
	return issueResultToProto(res), nil
}

func (s *issuerServer) RenewCertificate(ctx context.Context, r *pb.RenewRequest) (*pb.IssueResponse, error) {
	req, err := issueRequestFromProto(r.GetRequest())
	if err != nil {
		return nil, err
	}
	res, err := s.impl.RenewCertificate(ctx, RenewRequest{IssueRequest: req, PreviousSerial: r.GetPreviousSerial(),
		PreviousCertificatePEM: r.GetPreviousCertificatePem()})
	if err != nil {
		return nil, toStatus(err)
	}
	return issueResultToProto(res), nil
}

func (s *issuerServer) RevokeCertificate(ctx context.Context, r *pb.RevokeRequest) (*pb.RevokeResponse, error) {
	cfg, err := configArg(r.GetConfigJson())
	if err != nil {
		return nil, err
	}
	err = s.impl.RevokeCertificate(ctx, RevokeRequest{Config: cfg, SerialNumber: r.GetSerialNumber(),
		Reason: int(r.GetReason()), CertificatePEM: r.GetCertificatePem()})
	return &pb.RevokeResponse{}, toStatus(err)
}

func (s *issuerServer) GetOrderStatus(ctx context.Context, r *pb.OrderStatusRequest) (*pb.IssueResponse, error) {
	cfg, err := configArg(r.GetConfigJson())
	if err != nil {
		return nil, err
	}
	res, err := s.impl.GetOrderStatus(ctx, OrderStatusRequest{Config: cfg, OrderID: r.GetOrderId()})
	if err != nil {
		return nil, toStatus(err)
	}
	return issueResultToProto(res), nil
}

func (s *issuerServer) SignCRL(ctx context.Context, r *pb.SignCRLRequest) (*pb.SignCRLResponse, error) {
	cfg, err := configArg(r.GetConfigJson())
	if err != nil {
		return nil, err
	}
	req := CRLRequest{Config: cfg, Number: r.GetNumber(), ThisUpdate: fromTS(r.GetThisUpdate()), NextUpdate: fromTS(r.GetNextUpdate())}
	for _, e := range r.GetRevoked() {
		req.Revoked = append(req.Revoked, RevokedCertificate{SerialNumber: e.GetSerialNumber(), RevokedAt: fromTS(e.GetRevokedAt()),
			Reason: int(e.GetReason())})
	}
	res, err := s.impl.SignCRL(ctx, req)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.SignCRLResponse{CrlDer: res.DER}, nil
}

// issuerClient is an Issuer backed by a plugin process (host side).
type issuerClient struct {
	c pb.IssuerClient
}

func (c *issuerClient) Info(ctx context.Context) (Info, error) {
	r, err := c.c.Info(ctx, &pb.InfoRequest{})
	if err != nil {
		return Info{}, fromStatus(ctx, err)
	}
	return infoFromProto(r)
}

func (c *issuerClient) ValidateConfig(ctx context.Context, req ValidateConfigRequest) error {
	raw, err := MarshalConfig(req.Config)
	if err != nil {
		return err
	}
	_, err = c.c.ValidateConfig(ctx, &pb.ValidateConfigRequest{ConfigJson: raw})
	return fromStatus(ctx, err)
}

func (c *issuerClient) Provision(ctx context.Context, req ProvisionRequest) (ProvisionResult, error) {
	raw, err := MarshalConfig(req.Config)
	if err != nil {
		return ProvisionResult{}, err
	}
	r, err := c.c.Provision(ctx, &pb.ProvisionRequest{ConfigJson: raw})
	if err != nil {
		return ProvisionResult{}, fromStatus(ctx, err)
	}
	cfg, err := UnmarshalConfig(r.GetConfigJson())
	return ProvisionResult{Config: cfg}, err
}

func (c *issuerClient) IssueCertificate(ctx context.Context, req IssueRequest) (IssueResult, error) {
	pr, err := issueRequestToProto(req)
	if err != nil {
		return IssueResult{}, err
	}
	r, err := c.c.IssueCertificate(ctx, pr)
	if err != nil {
		return IssueResult{}, fromStatus(ctx, err)
	}
	return issueResultFromProto(r), nil
}

func (c *issuerClient) RenewCertificate(ctx context.Context, req RenewRequest) (IssueResult, error) {
	pr, err := issueRequestToProto(req.IssueRequest)
	if err != nil {
		return IssueResult{}, err
	}
	r, err := c.c.RenewCertificate(ctx, &pb.RenewRequest{Request: pr, PreviousSerial: req.PreviousSerial,
		PreviousCertificatePem: req.PreviousCertificatePEM})
	if err != nil {
		return IssueResult{}, fromStatus(ctx, err)
	}
	return issueResultFromProto(r), nil
}

func (c *issuerClient) RevokeCertificate(ctx context.Context, req RevokeRequest) error {
	raw, err := MarshalConfig(req.Config)
	if err != nil {
		return err
	}
	_, err = c.c.RevokeCertificate(ctx, &pb.RevokeRequest{ConfigJson: raw, SerialNumber: req.SerialNumber,
		Reason: int32(req.Reason), CertificatePem: req.CertificatePEM})
	return fromStatus(ctx, err)
}

func (c *issuerClient) GetOrderStatus(ctx context.Context, req OrderStatusRequest) (IssueResult, error) {
	raw, err := MarshalConfig(req.Config)
	if err != nil {
		return IssueResult{}, err
	}
	r, err := c.c.GetOrderStatus(ctx, &pb.OrderStatusRequest{ConfigJson: raw, OrderId: req.OrderID})
	if err != nil {
		return IssueResult{}, fromStatus(ctx, err)
	}
	return issueResultFromProto(r), nil
}

func (c *issuerClient) SignCRL(ctx context.Context, req CRLRequest) (CRLResult, error) {
	raw, err := MarshalConfig(req.Config)
	if err != nil {
		return CRLResult{}, err
	}
	pr := &pb.SignCRLRequest{ConfigJson: raw, Number: req.Number, ThisUpdate: ts(req.ThisUpdate), NextUpdate: ts(req.NextUpdate)}
	for _, e := range req.Revoked {
		pr.Revoked = append(pr.Revoked, &pb.RevokedCertificate{SerialNumber: e.SerialNumber, RevokedAt: ts(e.RevokedAt),
			Reason: int32(e.Reason)})
	}
	r, err := c.c.SignCRL(ctx, pr)
	if err != nil {
		return CRLResult{}, fromStatus(ctx, err)
	}
	return CRLResult{DER: r.GetCrlDer()}, nil
}
