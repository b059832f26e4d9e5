package main

// This file is the Windows host behind the fake WinRM endpoint: an
// in-memory model of the LocalMachine certificate stores (with the keys
// of imported PFXs, really decoded with go-pkcs12 and the password the
// script carries), IIS sites and their bindings, the user's %TEMP%, and
// http.sys serving each binding's certificate over TLS.
//
// It is not a PowerShell interpreter. It decodes the command line as
// powershell.exe would (-EncodedCommand: base64 of UTF-16LE), reads the
// script's operation and its parameter assignments (PowerShell literals),
// checks that the script makes the cmdlet and method calls it emulates,
// with the arguments it reads, and applies their effects to the model,
// answering as the script's Write-Result and Write-Failure would, with
// the messages Windows gives. What it cannot show is that the PowerShell
// runs on Windows: that needs a Windows host.

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"software.sslmate.com/src/go-pkcs12"
)

// HRESULTs the emulated exceptions carry.
const (
	hrAccessDenied = -2147024891 // 0x80070005
	hrFileNotFound = -2147024894 // 0x80070002
)

// fakeHost is the Windows host.
type fakeHost struct {
	t  testing.TB
	mu sync.Mutex

	admins            map[string]bool // lower-case user names in Administrators
	webAdministration bool            // the IIS module is installed
	stores            map[string]*certStore
	sites             []*fakeSite
	temp              map[string]string // lower-case path → content

	// Failures to inject.
	failImport string            // Import-PfxCertificate throws this
	failAddSSL map[string]string // AddSslCertificate of this thumbprint throws this
	slow       map[string]time.Duration
	crash      map[string]bool // powershell.exe dies with a parse error quoting the script

	// What happened.
	ops          []string
	imports      int
	pfxPasswords []string
	chunks       []string
	violations   []string
}

type certStore struct {
	name  string
	certs map[string]*storedCert // upper-case thumbprint
}

type storedCert struct {
	cert *x509.Certificate
	key  crypto.PrivateKey // nil: no private key
}

type fakeSite struct {
	id       int
	name     string
	bindings []*fakeBinding
}

type fakeBinding struct {
	protocol string
	info     string // ip:port:host
	sslFlags int
	hash     string
	store    string
}

func newFakeHost(t testing.TB) *fakeHost {
	h := &fakeHost{t: t, admins: map[string]bool{"administrator": true}, webAdministration: true,
		stores: map[string]*certStore{}, temp: map[string]string{}, failAddSSL: map[string]string{},
		slow: map[string]time.Duration{}, crash: map[string]bool{}}
	for _, s := range []string{"My", "WebHosting", "CA", "Root"} {
		h.stores[strings.ToLower(s)] = &certStore{name: s, certs: map[string]*storedCert{}}
	}
	h.sites = []*fakeSite{{id: 1, name: "Default Web Site", bindings: []*fakeBinding{{protocol: "http", info: "*:80:"}}}}
	t.Cleanup(func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, v := range h.violations {
			t.Errorf("fake Windows host: %s", v)
		}
	})
	return h
}

// addCert puts a certificate (with its key, if any) in a store.
func (h *fakeHost) addCert(store string, c *x509.Certificate, key crypto.PrivateKey) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	tp := thumbprint(c)
	h.stores[strings.ToLower(store)].certs[tp] = &storedCert{cert: c, key: key}
	return tp
}

// addBinding adds an https binding with a certificate (or none).
func (h *fakeHost) addBinding(site, info, hash, store string, sslFlags int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.site(site)
	s.bindings = append(s.bindings, &fakeBinding{protocol: "https", info: info, hash: hash, store: store, sslFlags: sslFlags})
}

func (h *fakeHost) site(name string) *fakeSite {
	for _, s := range h.sites {
		if strings.EqualFold(s.name, name) {
			return s
		}
	}
	return nil
}

// binding returns a copy of an https binding, or nil.
func (h *fakeHost) binding(site, info string) *fakeBinding {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.site(site); s != nil {
		if b := findBinding(s, info); b != nil {
			c := *b
			return &c
		}
	}
	return nil
}

// inStore reports whether a store holds a certificate, and with a key.
func (h *fakeHost) inStore(store, tp string) (found, withKey bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.stores[strings.ToLower(store)].certs[strings.ToUpper(tp)]
	return c != nil, c != nil && c.key != nil
}

// snapshot is the model's state, to compare before and after.
func (h *fakeHost) snapshot() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	for _, name := range []string{"my", "webhosting", "ca", "root"} {
		fmt.Fprintf(&b, "store %s: %v\n", name, slices.Sorted(maps.Keys(h.stores[name].certs)))
	}
	for _, s := range h.sites {
		for _, bd := range s.bindings {
			fmt.Fprintf(&b, "site %s: %+v\n", s.name, *bd)
		}
	}
	fmt.Fprintf(&b, "temp: %v\n", h.temp)
	return b.String()
}

// opsSince returns the operations run after the first n.
func (h *fakeHost) opsSince(n int) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string{}, h.ops[n:]...)
}

func (h *fakeHost) opCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.ops)
}

func (h *fakeHost) set(f func(h *fakeHost)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f(h)
}

func (h *fakeHost) violate(format string, args ...any) {
	h.violations = append(h.violations, fmt.Sprintf(format, args...))
}

// psScript is a decoded script.
type psScript struct {
	op     string
	params map[string]any // lower-case names: PowerShell's are case-insensitive
	text   string
	lines  []string
}

// prepare reads a command line as cmd.exe and powershell.exe would and
// returns what running it does, and how long it takes.
func (h *fakeHost) prepare(user, line string) (string, func() (string, string, int), time.Duration) {
	fields := strings.Fields(line)
	fail := func(stderr string) (string, func() (string, string, int), time.Duration) {
		return "", func() (string, string, int) { return "", stderr, 1 }, 0
	}
	if len(fields) == 0 || !strings.EqualFold(strings.TrimSuffix(strings.ToLower(fields[0]), ".exe"), "powershell") {
		return fail(fmt.Sprintf("'%s' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n", firstField(fields)))
	}
	var encoded string
	for i := 1; i < len(fields); i++ {
		switch strings.ToLower(fields[i]) {
		case "-noprofile", "-noninteractive", "-nologo":
		case "-executionpolicy":
			i++
		case "-encodedcommand", "-enc", "-e", "-ec":
			if i+1 < len(fields) {
				encoded = fields[i+1]
				i++
			}
		default:
			h.mu.Lock()
			h.violate("powershell.exe argument %q not expected", fields[i])
			h.mu.Unlock()
		}
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil || len(raw)%2 != 0 || encoded == "" {
		return fail("Cannot process the command because the value specified with -EncodedCommand is not properly encoded. The value must be Base64 encoded.\r\n")
	}
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(raw[2*i:])
	}
	text := string(utf16.Decode(u))
	s, perr := parseScript(text)
	if perr != nil {
		h.mu.Lock()
		h.violate("the script does not parse: %v", perr)
		h.mu.Unlock()
		return fail(clixmlError("At line:1 char:1", perr.Error()))
	}
	h.mu.Lock()
	delay := h.slow[s.op]
	h.mu.Unlock()
	return s.op, func() (string, string, int) { return h.execute(user, s) }, delay
}

func firstField(f []string) string {
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

var assignment = regexp.MustCompile(`^\$([A-Za-z][A-Za-z0-9]*) = (.+)$`)

// parseScript reads the header and the parameter assignments.
func parseScript(text string) (*psScript, error) {
	lines := strings.Split(text, "\n")
	op, ok := strings.CutPrefix(lines[0], "# certctl iis: ")
	if !ok {
		return nil, fmt.Errorf("no operation header")
	}
	s := &psScript{op: op, params: map[string]any{}, text: text, lines: lines}
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "function ") || l == "try {" {
			break
		}
		if l == "$BindingInformation = $BindingIP + ':' + $BindingPort + ':' + $BindingHost" {
			ip, _ := s.params["bindingip"].(string)
			port, _ := s.params["bindingport"].(int)
			host, _ := s.params["bindinghost"].(string)
			s.params["bindinginformation"] = ip + ":" + strconv.Itoa(port) + ":" + host
			continue
		}
		m := assignment.FindStringSubmatch(l)
		if m == nil {
			return nil, fmt.Errorf("line %q is not an assignment", l)
		}
		v, err := parseLiteral(m[2])
		if err != nil {
			return nil, fmt.Errorf("$%s: %v", m[1], err)
		}
		s.params[strings.ToLower(m[1])] = v
	}
	return s, nil
}

// parseLiteral reads a PowerShell literal as the plugin writes them.
func parseLiteral(v string) (any, error) {
	switch {
	case v == "$true":
		return true, nil
	case v == "$false":
		return false, nil
	case strings.HasPrefix(v, "@(") && strings.HasSuffix(v, ")"):
		rest := strings.TrimSpace(v[2 : len(v)-1])
		out := []string{}
		for rest != "" {
			s, n, err := readQuoted(rest)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
			rest = strings.TrimPrefix(strings.TrimSpace(rest[n:]), ",")
			rest = strings.TrimSpace(rest)
		}
		return out, nil
	case len(v) > 0 && v[0] >= '0' && v[0] <= '9':
		return strconv.Atoi(v)
	}
	s, n, err := readQuoted(v)
	if err != nil {
		return nil, err
	}
	if n != len(v) {
		return nil, fmt.Errorf("text after the string: %q", v[n:])
	}
	return s, nil
}

// readQuoted reads a single-quoted string at the start of v: any of
// PowerShell's single quotes opens and closes it, and a doubled one
// stands for itself. It returns the string and the bytes read.
func readQuoted(v string) (string, int, error) {
	runes := []rune(v)
	if len(runes) == 0 || !isPSQuote(runes[0]) {
		return "", 0, fmt.Errorf("not a string: %q", v)
	}
	var b strings.Builder
	for i := 1; i < len(runes); i++ {
		if isPSQuote(runes[i]) {
			if i+1 < len(runes) && isPSQuote(runes[i+1]) {
				b.WriteRune(runes[i])
				i++
				continue
			}
			return b.String(), len(string(runes[:i+1])), nil
		}
		b.WriteRune(runes[i])
	}
	return "", 0, fmt.Errorf("unterminated string")
}

// psError is an exception the emulated script throws.
type psError struct {
	kind    string // set by Stop-Deployment
	message string
	hresult int
}

// required are the statements each operation's emulation stands for
// (indentation aside): a script that does not make them is not the
// script the fake emulates.
var required = map[string][]string{
	"": {"$ErrorActionPreference = 'Stop'\n", "\ntry {\n", "} catch {\nWrite-Failure $_\n}\nexit 0\n",
		"function Write-Json($Object) { [Console]::Out.WriteLine('CERTCTL-RESULT:' + (ConvertTo-Json $Object -Compress)) }",
		"$failure = $Record.Exception.GetBaseException()", "exit 1\n"},
	"probe": {"Import-Module WebAdministration -ErrorAction Stop", "\nImport-WebAdministration\n$webSite = Get-TargetSite\n",
		"(Open-Store $StoreName).Close()", "$opened.Open('ReadWrite, OpenExistingOnly')",
		"Get-WebBinding -Name $SiteName -Protocol https | Where-Object { $_.bindingInformation -eq $BindingInformation }",
		"Get-Website | Where-Object { $_.Name -eq $SiteName }", "thumbprint = [string]$binding.certificateHash",
		`$certPath = "Cert:\LocalMachine\$StoreName\$Thumbprint"`,
		"if (Test-Path -LiteralPath $certPath) { $result.certificate_in_store = (Get-Item -LiteralPath $certPath).HasPrivateKey }"},
	"upload": {`$b64Path = Join-Path $env:TEMP "$TempName.b64"`,
		"if ($AppendChunk) { [IO.File]::AppendAllText($b64Path, $Chunk) } else { [IO.File]::WriteAllText($b64Path, $Chunk) }",
		"Write-Result @{ length = (Get-Item -LiteralPath $b64Path).Length }"},
	"import": {"[IO.File]::WriteAllBytes($pfxPath, [Convert]::FromBase64String([IO.File]::ReadAllText($b64Path)))",
		"$securePassword = ConvertTo-SecureString $PfxPassword -AsPlainText -Force",
		"$imported = @(Import-PfxCertificate -FilePath $pfxPath -CertStoreLocation $storePath -Password $securePassword)",
		"$preexisting = @(Get-ChildItem -LiteralPath $storePath | ForEach-Object { $_.Thumbprint })",
		"$intermediates = Open-Store 'CA'", "if ($cert.Subject -ne $cert.Issuer) { $intermediates.Add($cert) }",
		"if ($preexisting -notcontains $cert.Thumbprint -and (Test-Path -LiteralPath $chainPath)) { Remove-Item -LiteralPath $chainPath; $moved++ }",
		"} finally {\nRemove-Item -LiteralPath $b64Path, $pfxPath -Force -ErrorAction SilentlyContinue\n}"},
	"cleanup": {`Remove-Item -LiteralPath (Join-Path $env:TEMP "$TempName.b64"), (Join-Path $env:TEMP "$TempName.pfx") -Force -ErrorAction SilentlyContinue`},
	"bind": {"New-WebBinding -Name $SiteName -Protocol https -IPAddress $BindingIP -Port $BindingPort -HostHeader $BindingHost -SslFlags $sslFlags",
		"if ($binding.certificateHash) { $binding.RemoveSslCertificate() }\n$binding.AddSslCertificate($Thumbprint, $StoreName)"},
	"restore": {"if ($PreviousThumbprint) { $binding.AddSslCertificate($PreviousThumbprint, $PreviousStore) }",
		"$binding | Remove-WebBinding", "if ($removed) { Remove-Item -LiteralPath $certPath -DeleteKey }"},
	"verify": {"$result.serial = $cert.SerialNumber", "thumbprint = [string]$binding.certificateHash"},
}

// params each operation reads, with their types.
var paramTypes = map[string]map[string]string{
	"probe":   {"sitename": "s", "bindinginformation": "s", "storename": "s", "thumbprint": "s"},
	"upload":  {"tempname": "s", "chunk": "s", "appendchunk": "b"},
	"import":  {"tempname": "s", "storename": "s", "thumbprint": "s", "pfxpassword": "s"},
	"cleanup": {"tempname": "s"},
	"bind": {"sitename": "s", "bindinginformation": "s", "bindingip": "s", "bindingport": "i", "bindinghost": "s",
		"storename": "s", "thumbprint": "s"},
	"restore": {"sitename": "s", "bindinginformation": "s", "bindingexisted": "b", "previousthumbprint": "s", "previousstore": "s",
		"storename": "s", "thumbprint": "s", "removecertificate": "b"},
	"verify": {"sitename": "s", "bindinginformation": "s"},
}

// execute runs a script against the model and returns what
// powershell.exe prints and its exit code.
func (h *fakeHost) execute(user string, s *psScript) (string, string, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, s.op)
	if s.op == "upload" {
		if c, ok := s.params["chunk"].(string); ok {
			h.chunks = append(h.chunks, c)
		}
	}
	if s.op == "import" {
		if p, ok := s.params["pfxpassword"].(string); ok {
			h.pfxPasswords = append(h.pfxPasswords, p)
		}
	}
	if h.crash[s.op] {
		return "", crashOutput(s), 1
	}
	types, known := paramTypes[s.op]
	if !known {
		h.violate("unknown operation %q", s.op)
		return "", clixmlError("At line:1 char:1", "unknown operation"), 1
	}
	for _, snippet := range append(required[""], required[s.op]...) {
		if !strings.Contains(unindent(s.text), unindent(snippet)) {
			h.violate("the %s script lacks %q, which the fake emulates", s.op, snippet)
		}
	}
	for name, typ := range types {
		v, ok := s.params[name]
		okType := false
		switch typ {
		case "s":
			_, okType = v.(string)
		case "b":
			_, okType = v.(bool)
		case "i":
			_, okType = v.(int)
		case "l":
			_, okType = v.([]string)
		}
		if !ok || !okType {
			h.violate("the %s script lacks parameter $%s of type %s (has %#v)", s.op, name, typ, v)
			return "", clixmlError("At line:1 char:1", "The variable '$"+name+"' cannot be retrieved because it has not been set."), 1
		}
	}
	p := func(name string) string { v, _ := s.params[name].(string); return v }
	var res map[string]any
	var err *psError
	switch s.op {
	case "probe":
		res, err = h.probe(user, p("sitename"), p("bindinginformation"), p("storename"), p("thumbprint"))
	case "upload":
		res, err = h.upload(user, p("tempname"), p("chunk"), s.params["appendchunk"].(bool))
	case "import":
		res, err = h.importPFX(user, p("tempname"), p("storename"), p("thumbprint"), p("pfxpassword"))
	case "cleanup":
		h.deleteTemp(user, p("tempname"))
		res = map[string]any{}
	case "bind":
		res, err = h.bind(user, s)
	case "restore":
		res, err = h.restore(user, s)
	case "verify":
		res, err = h.verify(user, p("sitename"), p("bindinginformation"))
	}
	if err != nil {
		kind := err.kind
		if kind == "" {
			kind = "error"
			if err.hresult == hrAccessDenied {
				kind = "access_denied"
			}
		}
		return resultOutput(map[string]any{"ok": false, "error": kind, "message": err.message}), "", 1
	}
	res["ok"] = true
	return resultOutput(res), "", 0
}

func resultOutput(v map[string]any) string {
	b, _ := json.Marshal(v)
	return "CERTCTL-RESULT:" + string(b) + "\r\n"
}

// crashOutput is powershell.exe dying on a parse error in the script's
// fourth line, which it quotes, wrapped at 60 columns into several
// records, as CLIXML on stderr.
func crashOutput(s *psScript) string {
	line := s.lines[3]
	for _, l := range s.lines {
		if strings.HasPrefix(l, "$PfxPassword") || strings.HasPrefix(l, "$Chunk") {
			line = l
		}
	}
	var parts []string
	parts = append(parts, "At line:4 char:16\r\n", "+ ")
	for len(line) > 60 {
		parts = append(parts, line[:60]+"\r\n")
		line = line[60:]
	}
	parts = append(parts, line+"\r\n", "Unexpected token in expression or statement.\r\n",
		"    + CategoryInfo          : ParserError: (:) [], ParentContainsErrorRecordException\r\n",
		"    + FullyQualifiedErrorId : UnexpectedToken\r\n")
	return clixml(parts...)
}

func clixmlError(at, message string) string {
	return clixml(at+"\r\n", message+"\r\n")
}

// clixml writes error strings as powershell.exe does on a redirected stderr.
func clixml(parts ...string) string {
	var b strings.Builder
	b.WriteString("#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">")
	b.WriteString(`<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN><MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules for first use.</AV><AI>0</AI><Nil /><PI>-1</PI><PC>-1</PC><T>Completed</T><SR>-1</SR><SD> </SD></PR></MS></Obj>`)
	for _, p := range parts {
		p = strings.NewReplacer("\r", "_x000D_", "\n", "_x000A_").Replace(xmlText(p))
		b.WriteString(`<S S="Error">` + p + `</S>`)
	}
	b.WriteString("</Objs>")
	return b.String()
}

// stop is Stop-Deployment.
func stop(kind, format string, args ...any) *psError {
	return &psError{kind: kind, message: fmt.Sprintf(format, args...)}
}

func (h *fakeHost) importWebAdministration() *psError {
	if !h.webAdministration {
		return stop("module_missing", "The IIS WebAdministration module cannot be loaded (is IIS with its Management Scripts and Tools installed?): "+
			"The specified module 'WebAdministration' was not loaded because no valid module file was found in any module directory.")
	}
	return nil
}

// readIIS is what reading IIS's configuration needs: an administrator.
func (h *fakeHost) readIIS(user string) *psError {
	if !h.admins[strings.ToLower(user)] {
		return &psError{hresult: hrAccessDenied,
			message: "Filename: redirection.config\r\nError: Cannot read configuration file due to insufficient permissions\r\n\r\n"}
	}
	return nil
}

func (h *fakeHost) targetSite(user, name string) (*fakeSite, *psError) {
	if err := h.readIIS(user); err != nil {
		return nil, err
	}
	if s := h.site(name); s != nil {
		return s, nil
	}
	return nil, stop("site_not_found", "IIS has no site named '%s'.", name)
}

func findBinding(s *fakeSite, info string) *fakeBinding {
	for _, b := range s.bindings {
		if b.protocol == "https" && strings.EqualFold(b.info, info) {
			return b
		}
	}
	return nil
}

// openStore is Open-Store: X509Store.Open with OpenExistingOnly.
func (h *fakeHost) openStore(user, name string, writable bool) (*certStore, *psError) {
	st := h.stores[strings.ToLower(name)]
	if st == nil {
		return nil, stop("store_not_found", `The certificate store LocalMachine\%s does not exist.`, name)
	}
	if writable && !h.admins[strings.ToLower(user)] {
		return nil, stop("access_denied", `Access to the certificate store LocalMachine\%s is denied: the account must be a local administrator.`, name)
	}
	return st, nil
}

func (h *fakeHost) probe(user, site, info, store, tp string) (map[string]any, *psError) {
	if err := h.importWebAdministration(); err != nil {
		return nil, err
	}
	s, err := h.targetSite(user, site)
	if err != nil {
		return nil, err
	}
	st, err := h.openStore(user, store, true)
	if err != nil {
		return nil, err
	}
	res := map[string]any{"site_id": s.id, "binding_found": false, "thumbprint": "", "store": "", "certificate_in_store": false}
	if b := findBinding(s, info); b != nil {
		res["binding_found"], res["thumbprint"], res["store"] = true, b.hash, b.store
	}
	if c := st.certs[strings.ToUpper(tp)]; c != nil {
		res["certificate_in_store"] = c.key != nil
	}
	return res, nil
}

func tempDir(user string) string { return `C:\Users\` + user + `\AppData\Local\Temp` }

func (h *fakeHost) upload(user, name, chunk string, appendChunk bool) (map[string]any, *psError) {
	path := strings.ToLower(tempDir(user) + `\` + name + ".b64")
	if appendChunk {
		h.temp[path] += chunk
	} else {
		h.temp[path] = chunk
	}
	return map[string]any{"length": len(h.temp[path])}, nil
}

func (h *fakeHost) deleteTemp(user, name string) {
	delete(h.temp, strings.ToLower(tempDir(user)+`\`+name+".b64"))
	delete(h.temp, strings.ToLower(tempDir(user)+`\`+name+".pfx"))
}

// importPFX is the import script: decode the uploaded base64, then
// Import-PfxCertificate, which decodes the PFX with the password and
// puts every certificate into the store, the leaf with its key; then the
// chain is moved to CA. The temporary files go in the finally.
func (h *fakeHost) importPFX(user, name, store, tp, password string) (map[string]any, *psError) {
	defer h.deleteTemp(user, name)
	storePath := `Cert:\LocalMachine\` + store
	st := h.stores[strings.ToLower(store)]
	if st == nil { // Get-ChildItem
		return nil, &psError{message: fmt.Sprintf("Cannot find path '%s' because it does not exist.", storePath)}
	}
	var preexisting []string
	for tp := range st.certs {
		preexisting = append(preexisting, tp)
	}
	b64Path := tempDir(user) + `\` + name + ".b64"
	content, ok := h.temp[strings.ToLower(b64Path)]
	if !ok {
		return nil, &psError{hresult: hrFileNotFound, message: fmt.Sprintf("Could not find file '%s'.", b64Path)}
	}
	pfx, derr := base64.StdEncoding.DecodeString(content)
	if derr != nil {
		return nil, &psError{message: "The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters. "}
	}
	h.temp[strings.ToLower(tempDir(user)+`\`+name+".pfx")] = string(pfx)
	// Import-PfxCertificate
	if h.failImport != "" {
		return nil, &psError{message: h.failImport}
	}
	if !h.admins[strings.ToLower(user)] {
		return nil, &psError{hresult: hrAccessDenied, message: "Access is denied. (Exception from HRESULT: 0x80070005 (E_ACCESSDENIED))"}
	}
	key, leaf, chain, perr := pkcs12.DecodeChain(pfx, password)
	if perr != nil {
		return nil, &psError{message: "The PFX file you are trying to import requires either a different password or membership in an Active Directory principal to which it is protected."}
	}
	h.imports++
	st.certs[thumbprint(leaf)] = &storedCert{cert: leaf, key: key}
	for _, c := range chain {
		if st.certs[thumbprint(c)] == nil {
			st.certs[thumbprint(c)] = &storedCert{cert: c}
		}
	}
	if !strings.EqualFold(thumbprint(leaf), tp) {
		return nil, stop("thumbprint_mismatch", "The imported PFX did not yield the expected certificate.")
	}
	moved := 0
	if !strings.EqualFold(store, "CA") {
		intermediates, err := h.openStore(user, "CA", true)
		if err != nil {
			return nil, err
		}
		for _, c := range chain {
			ctp := thumbprint(c)
			if c.Subject.String() != c.Issuer.String() {
				intermediates.certs[ctp] = &storedCert{cert: c}
			}
			if !containsString(preexisting, ctp) && st.certs[ctp] != nil {
				delete(st.certs, ctp)
				moved++
			}
		}
	}
	return map[string]any{"thumbprint": thumbprint(leaf), "chain_moved": moved}, nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// addSSL is the binding's AddSslCertificate: http.sys refuses a second
// certificate on one binding, and a certificate whose key it cannot use.
func (h *fakeHost) addSSL(b *fakeBinding, tp, store string) *psError {
	if msg, ok := h.failAddSSL[strings.ToUpper(tp)]; ok {
		return &psError{message: msg}
	}
	if b.hash != "" {
		return &psError{message: "Cannot create a file when that file already exists. (Exception from HRESULT: 0x800700B7)"}
	}
	st := h.stores[strings.ToLower(store)]
	if st == nil || st.certs[strings.ToUpper(tp)] == nil || st.certs[strings.ToUpper(tp)].key == nil {
		return &psError{message: "A specified logon session does not exist. It may already have been terminated. (Exception from HRESULT: 0x80070520)"}
	}
	b.hash, b.store = strings.ToUpper(tp), store
	return nil
}

func (h *fakeHost) bind(user string, s *psScript) (map[string]any, *psError) {
	p := func(name string) string { v, _ := s.params[name].(string); return v }
	if err := h.importWebAdministration(); err != nil {
		return nil, err
	}
	site, err := h.targetSite(user, p("sitename"))
	if err != nil {
		return nil, err
	}
	info := p("bindinginformation")
	b := findBinding(site, info)
	created := false
	if b == nil {
		flags := 0
		if p("bindinghost") != "" {
			flags = 1
		}
		newInfo := fmt.Sprintf("%s:%d:%s", p("bindingip"), s.params["bindingport"].(int), p("bindinghost"))
		if !strings.EqualFold(newInfo, info) {
			h.violate("New-WebBinding would create %q, but the script looks for %q", newInfo, info)
		}
		b = &fakeBinding{protocol: "https", info: newInfo, sslFlags: flags}
		site.bindings = append(site.bindings, b)
		created = true
	}
	if b.hash != "" {
		b.hash, b.store = "", ""
	}
	if err := h.addSSL(b, p("thumbprint"), p("storename")); err != nil {
		return nil, err
	}
	return map[string]any{"thumbprint": b.hash, "store": b.store, "created": created}, nil
}

func (h *fakeHost) restore(user string, s *psScript) (map[string]any, *psError) {
	p := func(name string) string { v, _ := s.params[name].(string); return v }
	if err := h.importWebAdministration(); err != nil {
		return nil, err
	}
	if err := h.readIIS(user); err != nil {
		return nil, err
	}
	site := h.site(p("sitename"))
	var b *fakeBinding
	if site != nil {
		b = findBinding(site, p("bindinginformation"))
	}
	if s.params["bindingexisted"].(bool) {
		if b == nil {
			return nil, stop("binding_not_found", "The binding is gone.")
		}
		if !strings.EqualFold(b.hash, p("previousthumbprint")) {
			b.hash, b.store = "", ""
			if prev := p("previousthumbprint"); prev != "" {
				if err := h.addSSL(b, prev, p("previousstore")); err != nil {
					return nil, err
				}
			}
		}
	} else if b != nil {
		for i, x := range site.bindings {
			if x == b {
				site.bindings = append(site.bindings[:i], site.bindings[i+1:]...)
				break
			}
		}
		b = nil
	}
	removed := false
	if s.params["removecertificate"].(bool) {
		if st := h.stores[strings.ToLower(p("storename"))]; st != nil && st.certs[strings.ToUpper(p("thumbprint"))] != nil {
			delete(st.certs, strings.ToUpper(p("thumbprint")))
			removed = true
		}
	}
	now := ""
	if b != nil {
		now = b.hash
	}
	return map[string]any{"thumbprint": now, "certificate_removed": removed}, nil
}

func (h *fakeHost) verify(user, siteName, info string) (map[string]any, *psError) {
	if err := h.importWebAdministration(); err != nil {
		return nil, err
	}
	site, err := h.targetSite(user, siteName)
	if err != nil {
		return nil, err
	}
	res := map[string]any{"binding_found": false, "thumbprint": "", "store": "", "certificate_found": false, "serial": "", "subject": "", "not_after": ""}
	if b := findBinding(site, info); b != nil {
		res["binding_found"], res["thumbprint"], res["store"] = true, b.hash, b.store
		if b.hash != "" {
			store := b.store
			if store == "" {
				store = "My"
			}
			if c := h.stores[strings.ToLower(store)].certs[b.hash]; c != nil {
				res["certificate_found"] = true
				res["serial"] = dotNetSerial(c.cert)
				res["subject"] = c.cert.Subject.String()
				res["not_after"] = c.cert.NotAfter.UTC().Format("2006-01-02T15:04:05.0000000Z")
			}
		}
	}
	return res, nil
}

// dotNetSerial is X509Certificate.SerialNumber: the DER integer's bytes
// in upper-case hexadecimal, a leading zero byte included.
func dotNetSerial(c *x509.Certificate) string {
	b := c.SerialNumber.Bytes()
	if len(b) == 0 || b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return strings.ToUpper(hex.EncodeToString(b))
}

// serveTLS starts http.sys: a TLS listener that serves, for the SNI a
// client sends, the certificate of the https binding with that host name
// (else of the binding without one), with the key imported with it.
func (h *fakeHost) serveTLS(t testing.TB) string {
	t.Helper()
	cfg := &tls.Config{GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		var fallback *fakeBinding
		for _, s := range h.sites {
			for _, b := range s.bindings {
				if b.protocol != "https" || b.hash == "" {
					continue
				}
				parts := strings.SplitN(b.info, ":", 3)
				if len(parts) == 3 && hello.ServerName != "" && strings.EqualFold(parts[2], hello.ServerName) {
					return h.tlsCert(b)
				}
				if len(parts) == 3 && parts[2] == "" {
					fallback = b
				}
			}
		}
		if fallback == nil {
			return nil, fmt.Errorf("no SSL binding")
		}
		return h.tlsCert(fallback)
	}}
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				c.(*tls.Conn).Handshake()
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).String()
}

func (h *fakeHost) tlsCert(b *fakeBinding) (*tls.Certificate, error) {
	store := b.store
	if store == "" {
		store = "My"
	}
	c := h.stores[strings.ToLower(store)].certs[b.hash]
	if c == nil || c.key == nil {
		return nil, fmt.Errorf("the bound certificate is not usable")
	}
	return &tls.Certificate{Certificate: [][]byte{c.cert.Raw}, PrivateKey: c.key, Leaf: c.cert}, nil
}
