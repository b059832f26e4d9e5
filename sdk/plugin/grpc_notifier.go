package plugin

import (
	"context"

	pb "github.com/certctl/certctl/sdk/plugin/proto/pluginv1"
)

// notifierServer serves a Notifier over gRPC (plugin side).
type notifierServer struct {
	pb.UnimplementedNotifierServer
	impl Notifier
}

func (s *notifierServer) Info(ctx context.Context, _ *pb.InfoRequest) (*pb.InfoResponse, error) {
	return serveInfo(ctx, s.impl)
}

func (s *notifierServer) ValidateConfig(ctx context.Context, r *pb.ValidateConfigRequest) (*pb.ValidateConfigResponse, error) {
	return serveValidate(ctx, s.impl, r.GetConfigJson())
}

func notificationFromProto(n *pb.Notification) Notification {
	return Notification{ID: n.GetId(), Event: n.GetEvent(), Severity: n.GetSeverity(), Title: n.GetTitle(),
		Message: n.GetMessage(), OccurredAt: fromTS(n.GetOccurredAt()), URL: n.GetUrl(), CertificateID: n.GetCertificateId(),
		CertificateName: n.GetCertificateName(), CommonName: n.GetCommonName(), SANs: n.GetSans(),
		SerialNumber: n.GetSerialNumber(), NotAfter: fromTS(n.GetNotAfter()), Details: n.GetDetails()}
}

func notificationToProto(n Notification) *pb.Notification {
	return &pb.Notification{Id: n.ID, Event: n.Event, Severity: n.Severity, Title: n.Title, Message: n.Message,
		OccurredAt: ts(n.OccurredAt), Url: n.URL, CertificateId: n.CertificateID, CertificateName: n.CertificateName,
		CommonName: n.CommonName, Sans: n.SANs, SerialNumber: n.SerialNumber, NotAfter: ts(n.NotAfter), Details: n.Details}
}

func (s *notifierServer) send(ctx context.Context, r *pb.SendRequest,
	f func(context.Context, SendRequest) (SendResult, error)) (*pb.SendResponse, error) {
	cfg, err := configArg(r.GetConfigJson())
	if err != nil {
		return nil, err
	}
	res, err := f(ctx, SendRequest{Config: cfg, Notification: notificationFromProto(r.GetNotification())})
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.SendResponse{MessageId: res.MessageID}, nil
}

func (s *notifierServer) SendAlert(ctx context.Context, r *pb.SendRequest) (*pb.SendResponse, error) {
	return s.send(ctx, r, s.impl.SendAlert)
}

func (s *notifierServer) SendEvent(ctx context.Context, r *pb.SendRequest) (*pb.SendResponse, error) {
	return s.send(ctx, r, s.impl.SendEvent)
}

// notifierClient is a Notifier backed by a plugin process (host side).
type notifierClient struct {
	c pb.NotifierClient
}

func (c *notifierClient) Info(ctx context.Context) (Info, error) {
	r, err := c.c.Info(ctx, &pb.InfoRequest{})
	if err != nil {
		return Info{}, fromStatus(ctx, err)
	}
	return infoFromProto(r)
}

func (c *notifierClient) ValidateConfig(ctx context.Context, req ValidateConfigRequest) error {
	raw, err := MarshalConfig(req.Config)
	if err != nil {
		return err
	}
	_, err = c.c.ValidateConfig(ctx, &pb.ValidateConfigRequest{ConfigJson: raw})
	return fromStatus(ctx, err)
}

func (c *notifierClient) send(ctx context.Context, req SendRequest,
	f func(context.Context, *pb.SendRequest, ...grpcCallOption) (*pb.SendResponse, error)) (SendResult, error) {
	raw, err := MarshalConfig(req.Config)
	if err != nil {
		return SendResult{}, err
	}
	r, err := f(ctx, &pb.SendRequest{ConfigJson: raw, Notification: notificationToProto(req.Notification)})
	if err != nil {
		return SendResult{}, fromStatus(ctx, err)
	}
	return SendResult{MessageID: r.GetMessageId()}, nil
}

func (c *notifierClient) SendAlert(ctx context.Context, req SendRequest) (SendResult, error) {
	return c.send(ctx, req, c.c.SendAlert)
}

func (c *notifierClient) SendEvent(ctx context.Context, req SendRequest) (SendResult, error) {
	return c.send(ctx, req, c.c.SendEvent)
}
