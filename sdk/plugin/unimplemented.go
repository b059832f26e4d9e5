package plugin

import "context"

// The Unimplemented types are for embedding: a plugin embeds the one of its
// kind and implements Info and the methods it supports; every other method
// answers an *Error with CodeUnimplemented naming the method. When a later
// version of the SDK adds a method to an interface, it adds the method to
// the Unimplemented type too, so a plugin that embeds one keeps compiling
// (and answers the new method unimplemented) where a plugin that implements
// the interface by hand fails to build until it gains the method.
//
// Info is not among them: a plugin always describes itself, and the
// compiler says so when it does not. Embedding does not make a method
// optional for the conformance kit: an issuer must still validate its
// configuration and issue, a target deploy, a notifier send alerts and
// events (plugintest fails a plugin that answers those unimplemented).
// What a host does with the others is in each interface method's doc.
//
// The types hold no state and are used by value:
//
//	type issuer struct{ plugin.UnimplementedIssuer }

// UnimplementedIssuer answers every Issuer method but Info with
// CodeUnimplemented.
type UnimplementedIssuer struct{}

// UnimplementedTarget answers every Target method but Info with
// CodeUnimplemented.
type UnimplementedTarget struct{}

// UnimplementedNotifier answers every Notifier method but Info with
// CodeUnimplemented.
type UnimplementedNotifier struct{}

func unimplemented(kind Kind, method string) *Error {
	return Errorf(CodeUnimplemented, "this %s plugin does not implement %s", kind, method)
}

// ValidateConfig implements Plugin.
func (UnimplementedIssuer) ValidateConfig(context.Context, ValidateConfigRequest) error {
	return unimplemented(KindIssuer, "ValidateConfig")
}

// Provision implements Issuer.
func (UnimplementedIssuer) Provision(context.Context, ProvisionRequest) (ProvisionResult, error) {
	return ProvisionResult{}, unimplemented(KindIssuer, "Provision")
}

// IssueCertificate implements Issuer.
func (UnimplementedIssuer) IssueCertificate(context.Context, IssueRequest) (IssueResult, error) {
	return IssueResult{}, unimplemented(KindIssuer, "IssueCertificate")
}

// RenewCertificate implements Issuer.
func (UnimplementedIssuer) RenewCertificate(context.Context, RenewRequest) (IssueResult, error) {
	return IssueResult{}, unimplemented(KindIssuer, "RenewCertificate")
}

// RevokeCertificate implements Issuer.
func (UnimplementedIssuer) RevokeCertificate(context.Context, RevokeRequest) error {
	return unimplemented(KindIssuer, "RevokeCertificate")
}

// GetOrderStatus implements Issuer.
func (UnimplementedIssuer) GetOrderStatus(context.Context, OrderStatusRequest) (IssueResult, error) {
	return IssueResult{}, unimplemented(KindIssuer, "GetOrderStatus")
}

// SignCRL implements Issuer.
func (UnimplementedIssuer) SignCRL(context.Context, CRLRequest) (CRLResult, error) {
	return CRLResult{}, unimplemented(KindIssuer, "SignCRL")
}

// ValidateConfig implements Plugin.
func (UnimplementedTarget) ValidateConfig(context.Context, ValidateConfigRequest) error {
	return unimplemented(KindTarget, "ValidateConfig")
}

// DeployCertificate implements Target.
func (UnimplementedTarget) DeployCertificate(context.Context, DeployRequest) (DeployResult, error) {
	return DeployResult{}, unimplemented(KindTarget, "DeployCertificate")
}

// ValidateDeployment implements Target.
func (UnimplementedTarget) ValidateDeployment(context.Context, ValidateDeploymentRequest) (ValidateDeploymentResult, error) {
	return ValidateDeploymentResult{}, unimplemented(KindTarget, "ValidateDeployment")
}

// ValidateConfig implements Plugin.
func (UnimplementedNotifier) ValidateConfig(context.Context, ValidateConfigRequest) error {
	return unimplemented(KindNotifier, "ValidateConfig")
}

// SendAlert implements Notifier.
func (UnimplementedNotifier) SendAlert(context.Context, SendRequest) (SendResult, error) {
	return SendResult{}, unimplemented(KindNotifier, "SendAlert")
}

// SendEvent implements Notifier.
func (UnimplementedNotifier) SendEvent(context.Context, SendRequest) (SendResult, error) {
	return SendResult{}, unimplemented(KindNotifier, "SendEvent")
}
