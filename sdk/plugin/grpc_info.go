package plugin

import (
	"context"
	"encoding/json"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/certctl/certctl/sdk/plugin/proto/pluginv1"
)

func infoToProto(i Info) (*pb.InfoResponse, error) {
	out := &pb.InfoResponse{Name: i.Name, Kind: string(i.Kind), Version: i.Version, Description: i.Description}
	for _, v := range i.ProtocolVersions {
		out.ProtocolVersions = append(out.ProtocolVersions, int32(v))
	}
	out.Schema = &pb.Schema{}
	for _, f := range i.Schema.Fields {
		pf := &pb.Field{Name: f.Name, Type: f.Type, Description: f.Description, Required: f.Required,
			Sensitive: f.Sensitive, Enum: f.Enum}
		if f.Default != nil {
			b, err := json.Marshal(f.Default)
			if err != nil {
				return nil, Errorf(CodePermanent, "schema field %s: default: %v", f.Name, err)
			}
			pf.DefaultJson = string(b)
		}
		out.Schema.Fields = append(out.Schema.Fields, pf)
	}
	return out, nil
}

func infoFromProto(p *pb.InfoResponse) (Info, error) {
	i := Info{Name: p.GetName(), Kind: Kind(p.GetKind()), Version: p.GetVersion(), Description: p.GetDescription()}
	for _, v := range p.GetProtocolVersions() {
		i.ProtocolVersions = append(i.ProtocolVersions, int(v))
	}
	for _, pf := range p.GetSchema().GetFields() {
		f := Field{Name: pf.GetName(), Type: pf.GetType(), Description: pf.GetDescription(), Required: pf.GetRequired(),
			Sensitive: pf.GetSensitive(), Enum: pf.GetEnum()}
		if pf.GetDefaultJson() != "" {
			if err := json.Unmarshal([]byte(pf.GetDefaultJson()), &f.Default); err != nil {
				return i, Errorf(CodePermanent, "plugin schema field %s: bad default: %v", pf.GetName(), err)
			}
		}
		i.Schema.Fields = append(i.Schema.Fields, f)
	}
	return i, nil
}

// serveInfo answers Info for any kind.
func serveInfo(ctx context.Context, p Plugin) (*pb.InfoResponse, error) {
	i, err := p.Info(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	i.ProtocolVersions = []int{ProtocolVersion}
	out, err := infoToProto(i)
	return out, toStatus(err)
}

// serveValidate answers ValidateConfig for any kind.
func serveValidate(ctx context.Context, p Plugin, raw []byte) (*pb.ValidateConfigResponse, error) {
	cfg, err := UnmarshalConfig(raw)
	if err != nil {
		return nil, toStatus(InvalidConfig("", "%v", err))
	}
	return &pb.ValidateConfigResponse{}, toStatus(p.ValidateConfig(ctx, ValidateConfigRequest{Config: cfg}))
}

// configArg decodes a request's configuration on the plugin side.
func configArg(raw []byte) (Config, error) {
	cfg, err := UnmarshalConfig(raw)
	if err != nil {
		return nil, toStatus(InvalidConfig("", "%v", err))
	}
	return cfg, nil
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func fromTS(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}

func dur(d time.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return durationpb.New(d)
}

func fromDur(d *durationpb.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return d.AsDuration()
}
