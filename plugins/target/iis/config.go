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
	"unicode"

	"github.com/certctl/certctl/sdk/plugin"
)

// Names of the configuration fields.
const (
	fieldAddress            = "address"
	fieldPort               = "port"
	fieldHTTPS              = "https"
	fieldInsecureSkipVerify = "insecure_skip_verify"
	fieldCACertPEM          = "ca_cert_pem"
	fieldUsername           = "username"
	fieldPassword           = "password"
	fieldAuth               = "auth"
	fieldSite               = "site"
	fieldBindingHost        = "binding_host"
	fieldBindingPort        = "binding_port"
	fieldIPAddress          = "ip_address"
	fieldStore              = "store"
	fieldPFXEncryption      = "pfx_encryption"
	fieldVerifyAddress      = "verify_address"
	fieldTimeout            = "timeout"
)

// Values of the enum fields.
const (
	authNTLM  = "ntlm"
	authBasic = "basic"

	pfxAES256 = "aes256"
	pfx3DES   = "3des"
)

// Limits of the timeout field.
const (
	minTimeout = 5 * time.Second
	maxTimeout = 10 * time.Minute
)

var schema = plugin.Schema{Fields: []plugin.Field{
	{Name: fieldAddress, Type: plugin.TypeString, Required: true,
		Description: "The Windows host's WinRM endpoint: a host name or IP address (e.g. \"web01.corp.example\"), or a URL such as \"https://web01.corp.example:5986/wsman\", whose scheme and port then take precedence over https and port."},
	{Name: fieldPort, Type: plugin.TypeInt, Default: 5986,
		Description: "WinRM port: 5986 is WinRM's HTTPS listener. Ignored when address is a URL with a port."},
	{Name: fieldHTTPS, Type: plugin.TypeBool, Default: true,
		Description: "Connect with HTTPS. Must be true: the deployment carries the private key, and this client does not implement WinRM's own message encryption that would protect it over plain HTTP."},
	{Name: fieldInsecureSkipVerify, Type: plugin.TypeBool, Default: false,
		Description: "Do not verify the WinRM listener's TLS certificate. For tests only: anyone on the network path could then read the credentials and the private key."},
	{Name: fieldCACertPEM, Type: plugin.TypeString,
		Description: "PEM certificate(s) of the CA that issued the WinRM listener's certificate, when the agent's system roots do not trust it (e.g. a self-signed listener certificate, or an internal CA)."},
	{Name: fieldUsername, Type: plugin.TypeString, Required: true,
		Description: "Windows account to log on with, e.g. \"Administrator\" or \"CORP\\\\certctl\". It must be allowed to use WinRM and be a local administrator: it writes to the LocalMachine certificate store and to IIS's configuration."},
	{Name: fieldPassword, Type: plugin.TypeString, Required: true, Sensitive: true,
		Description: "The account's password."},
	{Name: fieldAuth, Type: plugin.TypeString, Default: authNTLM, Enum: []string{authNTLM, authBasic},
		Description: "How to authenticate to WinRM: \"ntlm\" (NTLMv2, what WinRM accepts by default) or \"basic\" (local accounts only, and only once WinRM's Auth/Basic is enabled on the host)."},
	{Name: fieldSite, Type: plugin.TypeString, Required: true,
		Description: "Name of the IIS site whose https binding receives the certificate, e.g. \"Default Web Site\"."},
	{Name: fieldBindingHost, Type: plugin.TypeString,
		Description: "Host name of the https binding, e.g. \"www.example.com\". When set, a binding the plugin creates uses SNI (SslFlags 1). Empty: the binding without a host name."},
	{Name: fieldBindingPort, Type: plugin.TypeInt, Default: 443,
		Description: "Port of the https binding."},
	{Name: fieldIPAddress, Type: plugin.TypeString, Default: "*",
		Description: "IP address of the https binding, or \"*\" for all unassigned addresses."},
	{Name: fieldStore, Type: plugin.TypeString, Default: "My",
		Description: "Certificate store in LocalMachine that receives the certificate: \"My\" (Personal) or \"WebHosting\" (IIS's store for many certificates)."},
	{Name: fieldPFXEncryption, Type: plugin.TypeString, Default: pfxAES256, Enum: []string{pfxAES256, pfx3DES},
		Description: "Encryption of the PFX sent to the host (under a one-time random password): \"aes256\" (PBES2 with AES-256 and SHA-256 MAC) needs Windows Server 2019 or later; \"3des\" (3DES with SHA-1 MAC) for Windows Server 2016 and older."},
	{Name: fieldVerifyAddress, Type: plugin.TypeString,
		Description: "host:port where the site serves TLS, e.g. \"web01.corp.example:443\". When set, ValidateDeployment also completes a TLS handshake there (sending binding_host as SNI) and compares the served certificate's serial number. Empty: only the binding is checked, through WinRM."},
	{Name: fieldTimeout, Type: plugin.TypeDuration, Default: "60s",
		Description: "Time allowed for each PowerShell script run through WinRM (connecting included), 5s to 10m. A deployment runs four or five scripts, plus one per 1.5 KB of PFX."},
}}

// config is a configuration, normalised and checked.
type config struct {
	endpoint      *url.URL // https://host:port/wsman
	host          string   // as the Endpoint wants it: IPv6 literals bracketed
	port          int
	insecure      bool
	caPool        *x509.CertPool
	username      string
	password      string
	auth          string
	site          string
	bindingHost   string
	bindingPort   int
	ipAddress     string
	store         string
	pfxEncryption string
	verifyAddress string
	timeout       time.Duration
}

// bindingIP is the binding's address as IIS writes it in
// bindingInformation: "*", an IPv4 address, or a bracketed IPv6 one.
func (c config) bindingIP() string {
	if ip := net.ParseIP(c.ipAddress); ip != nil && ip.To4() == nil {
		return "[" + ip.String() + "]"
	}
	return c.ipAddress
}

// bindingInformation is IIS's key of the binding: "ip:port:host".
func (c config) bindingInformation() string {
	return fmt.Sprintf("%s:%d:%s", c.bindingIP(), c.bindingPort, c.bindingHost)
}

// lockKey names the binding a deployment changes, so that deployments
// to the same binding from one agent never interleave.
func (c config) lockKey() string {
	return strings.ToLower(c.endpoint.String() + "|" + c.site + "|" + c.bindingInformation())
}

var (
	storePattern    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
	hostnamePattern = regexp.MustCompile(`^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$`)
)

// readConfig normalises raw with the schema (hosts do, but a plugin
// called directly must not trust that they did) and checks it. It never
// touches the network: a dry run does.
func readConfig(raw plugin.Config) (config, error) {
	cfg, err := schema.Normalize(raw)
	if err != nil {
		return config{}, err
	}
	c := config{
		insecure:      cfg.Bool(fieldInsecureSkipVerify),
		username:      cfg.String(fieldUsername),
		password:      cfg.String(fieldPassword),
		auth:          cfg.String(fieldAuth),
		site:          cfg.String(fieldSite),
		bindingHost:   cfg.String(fieldBindingHost),
		ipAddress:     cfg.String(fieldIPAddress),
		store:         cfg.String(fieldStore),
		pfxEncryption: cfg.String(fieldPFXEncryption),
		verifyAddress: cfg.String(fieldVerifyAddress),
		timeout:       cfg.Duration(fieldTimeout),
	}
	if err := c.readEndpoint(cfg.String(fieldAddress), cfg.Int(fieldPort), cfg.Bool(fieldHTTPS)); err != nil {
		return config{}, err
	}
	if pemText := cfg.String(fieldCACertPEM); strings.TrimSpace(pemText) != "" {
		c.caPool = x509.NewCertPool()
		if !c.caPool.AppendCertsFromPEM([]byte(pemText)) {
			return config{}, plugin.InvalidConfig(fieldCACertPEM, "holds no PEM CERTIFICATE block that parses")
		}
	}
	if hasControl(c.username) || strings.TrimSpace(c.username) == "" {
		return config{}, plugin.InvalidConfig(fieldUsername, "must be an account name such as Administrator or CORP\\certctl")
	}
	if hasControl(c.site) || strings.TrimSpace(c.site) == "" || len(c.site) > 256 {
		return config{}, plugin.InvalidConfig(fieldSite, "must be the name of an IIS site, without control characters")
	}
	if c.bindingHost != "" && (len(c.bindingHost) > 253 || !hostnamePattern.MatchString(c.bindingHost)) {
		return config{}, plugin.InvalidConfig(fieldBindingHost, "must be a host name such as www.example.com (or *.example.com)")
	}
	bp := cfg.Int(fieldBindingPort)
	if bp < 1 || bp > 65535 {
		return config{}, plugin.InvalidConfig(fieldBindingPort, "must be from 1 to 65535")
	}
	c.bindingPort = int(bp)
	if c.ipAddress != "*" && net.ParseIP(c.ipAddress) == nil {
		return config{}, plugin.InvalidConfig(fieldIPAddress, "must be \"*\" or an IP address such as 10.0.0.5")
	}
	if !storePattern.MatchString(c.store) {
		return config{}, plugin.InvalidConfig(fieldStore, "must be the name of a LocalMachine store such as My or WebHosting")
	}
	if c.verifyAddress != "" {
		host, port, err := net.SplitHostPort(c.verifyAddress)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			return config{}, plugin.InvalidConfig(fieldVerifyAddress, "must be host:port, e.g. web01.corp.example:443 or [2001:db8::1]:443")
		}
	}
	if c.timeout < minTimeout || c.timeout > maxTimeout {
		return config{}, plugin.InvalidConfig(fieldTimeout, "must be between %s and %s", minTimeout, maxTimeout)
	}
	return c, nil
}

// readEndpoint reads address, port and https into the WinRM URL.
func (c *config) readEndpoint(address string, port int64, https bool) error {
	address = strings.TrimSpace(address)
	scheme := "https"
	if !https {
		scheme = "http"
	}
	var host string
	if strings.Contains(address, "://") {
		u, err := url.Parse(address)
		if err != nil || u.Hostname() == "" {
			return plugin.InvalidConfig(fieldAddress, "is not a URL such as https://web01.corp.example:5986/wsman")
		}
		if u.Scheme != "https" && u.Scheme != "http" {
			return plugin.InvalidConfig(fieldAddress, "URL scheme must be https")
		}
		if u.User != nil {
			return plugin.InvalidConfig(fieldAddress, "must not hold credentials: use username and password")
		}
		if (u.Path != "" && u.Path != "/wsman") || u.RawQuery != "" || u.Fragment != "" {
			return plugin.InvalidConfig(fieldAddress, "URL path must be /wsman (WinRM's), without query")
		}
		scheme, host = u.Scheme, u.Hostname()
		if p := u.Port(); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return plugin.InvalidConfig(fieldAddress, "URL port must be from 1 to 65535")
			}
			port = int64(n)
		}
	} else {
		host = strings.TrimSuffix(strings.TrimPrefix(address, "["), "]")
		if _, p, err := net.SplitHostPort(address); err == nil && p != "" {
			return plugin.InvalidConfig(fieldAddress, "must be a host name or IP address; give the port in port, or write a URL such as https://%s/wsman", address)
		}
		if net.ParseIP(host) == nil && !hostnamePattern.MatchString(host) || strings.HasPrefix(host, "*") {
			return plugin.InvalidConfig(fieldAddress, "must be a host name, an IP address, or a URL such as https://web01.corp.example:5986/wsman")
		}
	}
	if scheme != "https" {
		return plugin.InvalidConfig(fieldHTTPS, "must be true (and an address URL https): over plain HTTP the PFX carrying the private key, and its password, would cross the network readable, as this client does not implement WinRM message encryption")
	}
	if port < 1 || port > 65535 {
		return plugin.InvalidConfig(fieldPort, "must be from 1 to 65535")
	}
	c.port = int(port)
	c.host = host
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		c.host = "[" + host + "]"
	}
	c.endpoint = &url.URL{Scheme: scheme, Host: net.JoinHostPort(host, strconv.Itoa(c.port)), Path: "/wsman"}
	return nil
}

func hasControl(s string) bool { return strings.ContainsFunc(s, unicode.IsControl) }
