package main

import (
	"testing"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// TestConformance runs the SDK's conformance kit on the built binary,
// with real deployments to the fake Windows host and the check that the
// binding then has the deployed certificate.
func TestConformance(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	valid := e.cfg
	with := func(k string, v any) plugin.Config {
		c := valid.Clone()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	plugintest.Run(t, plugintest.Options{
		Binary:      plugintest.Build(t, "."),
		Kind:        plugin.KindTarget,
		ValidConfig: valid,
		InvalidConfigs: []plugintest.InvalidConfig{
			{Name: "missing address", Config: with(fieldAddress, nil), Field: fieldAddress},
			{Name: "missing password", Config: with(fieldPassword, nil), Field: fieldPassword},
			{Name: "missing site", Config: with(fieldSite, nil), Field: fieldSite},
			{Name: "plain http", Config: with(fieldHTTPS, false), Field: fieldHTTPS},
			{Name: "http URL", Config: with(fieldAddress, "http://win01.example.com:5985/wsman"), Field: fieldHTTPS},
			{Name: "URL with credentials", Config: with(fieldAddress, "https://admin:"+adminPassword+"@win01.example.com/wsman"), Field: fieldAddress},
			{Name: "address with port", Config: with(fieldAddress, "win01.example.com:5986"), Field: fieldAddress},
			{Name: "auth kerberos", Config: with(fieldAuth, "kerberos"), Field: fieldAuth},
			{Name: "port out of range", Config: with(fieldPort, 70000), Field: fieldPort},
			{Name: "bad ip_address", Config: with(fieldIPAddress, "10.0.0.300"), Field: fieldIPAddress},
			{Name: "bad store", Config: with(fieldStore, `My\..\Root`), Field: fieldStore},
			{Name: "bad binding_host", Config: with(fieldBindingHost, "www.example.com:443"), Field: fieldBindingHost},
			{Name: "verify_address without port", Config: with(fieldVerifyAddress, "win01.example.com"), Field: fieldVerifyAddress},
			{Name: "ca_cert_pem not PEM", Config: with(fieldCACertPEM, "not a certificate"), Field: fieldCACertPEM},
			{Name: "timeout too long", Config: with(fieldTimeout, "11m"), Field: fieldTimeout},
			{Name: "pfx_encryption unknown", Config: with(fieldPFXEncryption, "rc2"), Field: fieldPFXEncryption},
		},
		Target: &plugintest.TargetCases{Deploy: true, ValidateDeployment: true},
	})
	if b := e.host.binding(siteName, "*:443:"); b == nil || b.hash == "" {
		t.Errorf("after the conformance deployments, the https binding is %+v, want one with a certificate", b)
	}
	e.wantClean(t)
}
