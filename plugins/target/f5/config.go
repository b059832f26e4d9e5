package main

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/certctl/certctl/sdk/keys"
	"github.com/certctl/certctl/sdk/plugin"
)

// Names of the configuration fields.
const (
	fieldAddress            = "address"
	fieldUsername           = "username"
	fieldPassword           = "password"
	fieldPartition          = "partition"
	fieldProfile            = "profile"
	fieldParentProfile      = "parent_profile"
	fieldNamePrefix         = "name_prefix"
	fieldInsecureSkipVerify = "insecure_skip_verify"
	fieldCACertPEM          = "ca_cert_pem"
	fieldVirtualServer      = "virtual_server"
	fieldVerifyAddress      = "verify_address"
	fieldTimeout            = "timeout"
)

// Defaults and limits.
const (
	defaultPartition     = "Common"
	defaultParentProfile = "/Common/clientssl"
	defaultNamePrefix    = "certctl"
	defaultTimeout       = "30s"
	minTimeout           = time.Second
	maxTimeout           = 10 * time.Minute
)

var schema = plugin.Schema{Fields: []plugin.Field{
	{Name: fieldAddress, Type: plugin.TypeString, Required: true,
		Description: "URL of the BIG-IP's management interface (iControl REST), https://host or https://host:port, e.g. https://bigip.example.com or https://10.0.0.5:8443."},
	{Name: fieldUsername, Type: plugin.TypeString, Required: true,
		Description: "BIG-IP user the agent logs in as (token login, provider \"tmos\"). It needs the Certificate Manager role or better in the partition, plus rights on the profile and virtual server."},
	{Name: fieldPassword, Type: plugin.TypeString, Required: true, Sensitive: true,
		Description: "Password of username. Stored encrypted; never logged."},
	{Name: fieldPartition, Type: plugin.TypeString, Default: defaultPartition,
		Description: "Administrative partition that holds the certificate, key and profile objects."},
	{Name: fieldProfile, Type: plugin.TypeString, Required: true,
		Description: "Name of the client-SSL profile (in partition) whose certificate and key are replaced, e.g. \"www.example.com_clientssl\". It is created, from parent_profile, when it does not exist."},
	{Name: fieldParentProfile, Type: plugin.TypeString, Default: defaultParentProfile,
		Description: "Full path of the client-SSL profile a new profile inherits its settings from; used only when the profile is created."},
	{Name: fieldNamePrefix, Type: plugin.TypeString, Default: defaultNamePrefix,
		Description: "Prefix of the names of the objects a deployment installs: <prefix>-<certificate name>-<serial>.crt, .key and -chain.crt. Each certificate gets new objects beside the ones in use; those of the certificate replaced are deleted once the profile has switched."},
	{Name: fieldInsecureSkipVerify, Type: plugin.TypeBool, Default: false,
		Description: "Accept any TLS certificate from the management interface. For labs only: the password then goes to whoever answers at address."},
	{Name: fieldCACertPEM, Type: plugin.TypeString,
		Description: "PEM certificate(s) to trust for the management interface instead of the system's CAs, e.g. the BIG-IP's own device certificate. The name in address must match it."},
	{Name: fieldVirtualServer, Type: plugin.TypeString,
		Description: "Virtual server (a name in partition, or a full path such as /Common/vs_www) to attach the profile to, on the client side, if it is not attached yet. Empty: attachments are left alone."},
	{Name: fieldVerifyAddress, Type: plugin.TypeString,
		Description: "host:port where the virtual server serves TLS, e.g. \"203.0.113.10:443\". ValidateDeployment then also completes a TLS handshake there and compares the served certificate's serial number (the chain is not verified). Empty: only the BIG-IP's configuration is checked."},
	{Name: fieldTimeout, Type: plugin.TypeDuration, Default: defaultTimeout,
		Description: "Time allowed for each request to the BIG-IP, 1s to 10m; a request without an answer by then fails as transient."},
}}

// Patterns of BIG-IP names. Object names may use letters, digits, '_',
// '.' and '-'; a full path is /partition[/folder...]/name.
var (
	namePattern     = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$`)
	fullPathPattern = regexp.MustCompile(`^(/[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}){2,}$`)
	prefixPattern   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,31}$`)
)

// config is a configuration, normalised and checked.
type config struct {
	base               string // scheme://host:port, no trailing slash
	username, password string
	partition          string
	profile            string // full path
	parentProfile      string // full path
	prefix             string
	insecure           bool
	roots              *x509.CertPool // nil: the system's
	virtualServer      string         // full path, or ""
	verifyAddress      string
	timeout            time.Duration
}

// readConfig normalises raw with the schema (hosts do, but a plugin
// called directly must not trust that they did) and checks it. It never
// quotes the password.
func readConfig(raw plugin.Config) (config, error) {
	cfg, err := schema.Normalize(raw)
	if err != nil {
		return config{}, err
	}
	c := config{
		username:  cfg.String(fieldUsername),
		password:  cfg.String(fieldPassword),
		partition: cfg.String(fieldPartition),
		prefix:    cfg.String(fieldNamePrefix),
		insecure:  cfg.Bool(fieldInsecureSkipVerify),
		timeout:   cfg.Duration(fieldTimeout),
	}
	if c.base, err = checkBaseURL(cfg.String(fieldAddress)); err != nil {
		return config{}, err
	}
	if strings.ContainsAny(c.username, "\x00\r\n") {
		return config{}, plugin.InvalidConfig(fieldUsername, "must not hold control characters")
	}
	if !namePattern.MatchString(c.partition) || len(c.partition) > 64 {
		return config{}, plugin.InvalidConfig(fieldPartition, "must be a partition name such as Common (letters, digits, '_', '.', '-')")
	}
	profile := cfg.String(fieldProfile)
	if !namePattern.MatchString(profile) {
		return config{}, plugin.InvalidConfig(fieldProfile, "must be a profile name in the partition, e.g. www_clientssl (letters, digits, '_', '.', '-'; no '/')")
	}
	c.profile = "/" + c.partition + "/" + profile
	c.parentProfile = cfg.String(fieldParentProfile)
	if !fullPathPattern.MatchString(c.parentProfile) {
		return config{}, plugin.InvalidConfig(fieldParentProfile, "must be a full path such as /Common/clientssl")
	}
	if c.parentProfile == c.profile {
		return config{}, plugin.InvalidConfig(fieldParentProfile, "must differ from the profile itself")
	}
	if !prefixPattern.MatchString(c.prefix) {
		return config{}, plugin.InvalidConfig(fieldNamePrefix, "must start with a letter and hold at most 32 letters, digits, '_', '.' or '-'")
	}
	if pemText := cfg.String(fieldCACertPEM); pemText != "" {
		if c.insecure {
			return config{}, plugin.InvalidConfig(fieldCACertPEM, "set either ca_cert_pem or insecure_skip_verify, not both")
		}
		if c.roots, err = certPool(pemText); err != nil {
			return config{}, plugin.InvalidConfig(fieldCACertPEM, "%v", err)
		}
	}
	if vs := cfg.String(fieldVirtualServer); vs != "" {
		switch {
		case fullPathPattern.MatchString(vs):
			c.virtualServer = vs
		case namePattern.MatchString(vs):
			c.virtualServer = "/" + c.partition + "/" + vs
		default:
			return config{}, plugin.InvalidConfig(fieldVirtualServer, "must be a virtual server name such as vs_www, or a full path such as /Common/vs_www")
		}
	}
	if c.verifyAddress = cfg.String(fieldVerifyAddress); c.verifyAddress != "" {
		if err := checkHostPort(c.verifyAddress); err != nil {
			return config{}, plugin.InvalidConfig(fieldVerifyAddress, "%v", err)
		}
	}
	if c.timeout < minTimeout || c.timeout > maxTimeout {
		return config{}, plugin.InvalidConfig(fieldTimeout, "must be between %s and %s", minTimeout, maxTimeout)
	}
	return c, nil
}

// checkBaseURL checks address and returns it as https://host:port.
func checkBaseURL(address string) (string, error) {
	bad := func(why string) error {
		return plugin.InvalidConfig(fieldAddress, "%s: want https://host or https://host:port, e.g. https://bigip.example.com", why)
	}
	u, err := url.Parse(strings.TrimSpace(address))
	if err != nil {
		return "", bad("not a URL")
	}
	switch {
	case u.Scheme != "https":
		return "", bad("the scheme must be https (iControl REST is served over HTTPS only)")
	case u.User != nil:
		return "", bad("credentials go in username and password, not in the URL")
	case u.Hostname() == "":
		return "", bad("no host")
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "":
		return "", bad("no path, query or fragment")
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", bad("the port must be a number from 1 to 65535")
	}
	return "https://" + net.JoinHostPort(u.Hostname(), port), nil
}

// checkHostPort checks a host:port.
func checkHostPort(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return fmt.Errorf("must be host:port, e.g. 203.0.113.10:443 or [2001:db8::10]:443")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port must be a number from 1 to 65535")
	}
	return nil
}

// certPool reads the PEM certificates of s.
func certPool(s string) (*x509.CertPool, error) {
	certs, err := keys.ParseCertificates(s)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// uriName is how iControl REST writes a full path in a URL: /Common/x
// becomes ~Common~x.
func uriName(fullPath string) string { return strings.ReplaceAll(fullPath, "/", "~") }

// partitionOf returns the partition of a full path.
func partitionOf(fullPath string) string {
	p, _, _ := strings.Cut(strings.TrimPrefix(fullPath, "/"), "/")
	return p
}
