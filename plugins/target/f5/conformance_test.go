package main

import (
	"testing"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// TestConformance runs the SDK's conformance kit on the built binary,
// deploying for real to a fake BIG-IP, whose virtual server then serves
// the deployed certificate.
func TestConformance(t *testing.T) {
	t.Parallel()
	f := newFakeBigIP(t, "conformance-Passw0rd")
	valid := f.config(fieldProfile, "plugintest_clientssl", fieldVirtualServer, "vs_www",
		fieldVerifyAddress, f.serveVirtual("/Common/vs_www"))
	plugintest.Run(t, plugintest.Options{
		Binary:      plugintest.Build(t, "."),
		Kind:        plugin.KindTarget,
		ValidConfig: valid,
		InvalidConfigs: []plugintest.InvalidConfig{
			{Name: "missing address", Config: with(valid, fieldAddress, nil), Field: fieldAddress},
			{Name: "http address", Config: with(valid, fieldAddress, "http://bigip.example.com"), Field: fieldAddress},
			{Name: "missing password", Config: with(valid, fieldPassword, nil), Field: fieldPassword},
			{Name: "missing profile", Config: with(valid, fieldProfile, nil), Field: fieldProfile},
			{Name: "profile with slash", Config: with(valid, fieldProfile, "a/b"), Field: fieldProfile},
			{Name: "parent not a full path", Config: with(valid, fieldParentProfile, "clientssl"), Field: fieldParentProfile},
			{Name: "name_prefix", Config: with(valid, fieldNamePrefix, "-x"), Field: fieldNamePrefix},
			{Name: "ca_cert_pem garbage", Config: with(valid, fieldCACertPEM, "garbage"), Field: fieldCACertPEM},
			{Name: "ca_cert_pem and insecure", Config: with(valid, fieldInsecureSkipVerify, true), Field: fieldCACertPEM},
			{Name: "verify_address without port", Config: with(valid, fieldVerifyAddress, "127.0.0.1"), Field: fieldVerifyAddress},
			{Name: "timeout over max", Config: with(valid, fieldTimeout, "11m"), Field: fieldTimeout},
		},
		Target: &plugintest.TargetCases{Deploy: true, ValidateDeployment: true},
	})
	checkTokensDeleted(t, f)
}
