package main

import (
	"testing"

	"github.com/certctl/certctl/sdk/plugin"
)

// TestEndpoint checks how address, port and https make the WinRM URL.
func TestEndpoint(t *testing.T) {
	base := plugin.Config{fieldUsername: "Administrator", fieldPassword: "x", fieldSite: "Default Web Site"}
	for _, tc := range []struct {
		address string
		port    any
		want    string
	}{
		{"win01.example.com", nil, "https://win01.example.com:5986/wsman"},
		{"win01.example.com", 15986, "https://win01.example.com:15986/wsman"},
		{"10.0.0.5", nil, "https://10.0.0.5:5986/wsman"},
		{"2001:db8::5", nil, "https://[2001:db8::5]:5986/wsman"},
		{"[2001:db8::5]", nil, "https://[2001:db8::5]:5986/wsman"},
		{"https://win01.example.com/wsman", 15986, "https://win01.example.com:15986/wsman"},
		{"https://win01.example.com:443", nil, "https://win01.example.com:443/wsman"},
	} {
		cfg := base.Clone()
		cfg[fieldAddress] = tc.address
		if tc.port != nil {
			cfg[fieldPort] = tc.port
		}
		c, err := readConfig(cfg)
		if err != nil {
			t.Errorf("address %q: %v", tc.address, err)
			continue
		}
		if got := c.endpoint.String(); got != tc.want {
			t.Errorf("address %q, port %v: endpoint %s, want %s", tc.address, tc.port, got, tc.want)
		}
	}
}

// TestBindingInformation checks IIS's key of the binding.
func TestBindingInformation(t *testing.T) {
	base := plugin.Config{fieldAddress: "win01", fieldUsername: "Administrator", fieldPassword: "x", fieldSite: "Default Web Site"}
	for _, tc := range []struct {
		ip, host string
		port     int
		want     string
	}{
		{"*", "", 443, "*:443:"},
		{"10.0.0.5", "www.example.com", 8443, "10.0.0.5:8443:www.example.com"},
		{"2001:db8::5", "", 443, "[2001:db8::5]:443:"},
	} {
		cfg := base.Clone()
		cfg[fieldIPAddress], cfg[fieldBindingHost], cfg[fieldBindingPort] = tc.ip, tc.host, tc.port
		c, err := readConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.bindingInformation(); got != tc.want {
			t.Errorf("bindingInformation = %q, want %q", got, tc.want)
		}
	}
}
