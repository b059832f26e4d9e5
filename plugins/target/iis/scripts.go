package main

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
)

// This file holds the PowerShell the plugin runs on the Windows host.
// Each script is one operation: a header naming it, its parameters as
// literal assignments, the helper functions, and its body in a try block.
// It prints one line "CERTCTL-RESULT:" followed by JSON, {"ok": true,
// ...} and exit code 0, or {"ok": false, "error": kind, "message": ...}
// and exit code 1.
//
// PowerShell variables are case-insensitive and some names are taken
// ($Host, $Input, ...): parameters have names no local variable shares.

// resultPrefix starts the line holding a script's result.
const resultPrefix = "CERTCTL-RESULT:"

// powershellCommand runs an encoded script. cmd.exe runs it: the whole
// command line must stay under maxCommandLine characters.
const powershellCommand = "powershell.exe -NoProfile -NonInteractive -EncodedCommand "

// maxCommandLine is cmd.exe's limit on a command line, which WinRM's
// cmd shell runs every command through.
const maxCommandLine = 8191

// Kinds of failure the scripts report (Stop-Deployment's first
// argument, or Write-Failure's classification). The scripts' messages
// are terse, to save room; the plugin words the error from the kind.
const (
	kindSiteNotFound  = "site_not_found"      // message: the site name
	kindStoreNotFound = "store_not_found"     // message: the store name
	kindAccessDenied  = "access_denied"       // E_ACCESSDENIED or UnauthorizedAccessException
	kindModuleMissing = "module_missing"      // Import-Module WebAdministration failed
	kindMismatch      = "thumbprint_mismatch" // the PFX imported did not yield the certificate
	kindNoPrivateKey  = "no_private_key"      // the certificate was imported without its key
	kindNoBinding     = "binding_not_found"   // New-WebBinding did not create it, or it is gone
	kindError         = "error"               // any other exception
	kindNoResult      = "no_result"           // set by the plugin: the script printed no result
)

// script is one PowerShell script to run.
type script struct {
	op      string   // names the operation, for logs and errors
	params  []param  // assigned first, in order
	helpers []string // functions the body calls, in order
	body    string
	// secret marks scripts that carry the PFX or its password: their
	// output is never quoted in errors, as PowerShell errors can quote
	// script lines.
	secret bool
}

// param is a variable the script starts by assigning.
type param struct {
	name  string
	value any // string, bool, int or []string
}

// text is the script's source. Indentation is left out: every character
// counts against the command line.
func (s script) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# certctl iis: %s\n", s.op)
	b.WriteString("$ErrorActionPreference = 'Stop'\n$ProgressPreference = 'SilentlyContinue'\n")
	hasBinding := false
	for _, p := range s.params {
		fmt.Fprintf(&b, "$%s = %s\n", p.name, psLiteral(p.value))
		hasBinding = hasBinding || p.name == "BindingHost"
	}
	if hasBinding {
		b.WriteString(bindingInformation)
	}
	for _, h := range append([]string{helperResult}, s.helpers...) {
		b.WriteString(unindent(h))
	}
	b.WriteString("try {\n")
	b.WriteString(unindent(s.body))
	// powershell.exe -EncodedCommand would exit with 1 if the last
	// statement (a cleanup in a finally, say) set $? to false.
	b.WriteString("} catch {\nWrite-Failure $_\n}\nexit 0\n")
	return b.String()
}

// unindent drops the indentation of each line.
func unindent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, " \t")
	}
	return strings.Join(lines, "\n")
}

// commandLine is the command that runs the script: powershell.exe with
// the script as base64 of its UTF-16LE encoding.
func (s script) commandLine() string { return encodeCommand(s.text()) }

func encodeCommand(text string) string {
	units := utf16.Encode([]rune(text))
	raw := make([]byte, 2*len(units))
	for i, u := range units {
		raw[2*i], raw[2*i+1] = byte(u), byte(u>>8)
	}
	return powershellCommand + base64.StdEncoding.EncodeToString(raw)
}

// psLiteral writes a value as a PowerShell literal.
func psLiteral(v any) string {
	switch v := v.(type) {
	case string:
		return psQuote(v)
	case bool:
		if v {
			return "$true"
		}
		return "$false"
	case int:
		return strconv.Itoa(v)
	case []string:
		q := make([]string, len(v))
		for i, s := range v {
			q[i] = psQuote(s)
		}
		return "@(" + strings.Join(q, ", ") + ")"
	}
	panic(fmt.Sprintf("psLiteral: unsupported %T", v))
}

// psQuote writes s as a single-quoted PowerShell string, in which
// nothing is expanded. PowerShell takes the typographic single quotes
// (U+2018 to U+201B) as quotes too; each quote is escaped by doubling.
func psQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		b.WriteRune(r)
		if isPSQuote(r) {
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

func isPSQuote(r rune) bool { return r == '\'' || (r >= '\u2018' && r <= '\u201b') }

// bindingInformation is IIS's key of the binding, "ip:port:host", made
// from its parts so that the host name is sent once.
const bindingInformation = "$BindingInformation = $BindingIP + ':' + $BindingPort + ':' + $BindingHost\n"

// The helper functions. Write-Result prints the result; Write-Failure,
// called by every script's catch, prints the failure: the kind that
// Stop-Deployment gave, else access_denied for E_ACCESSDENIED, else error,
// with the innermost exception's message.
const (
	helperResult = `function Write-Json($Object) { [Console]::Out.WriteLine('CERTCTL-RESULT:' + (ConvertTo-Json $Object -Compress)) }
		function Write-Result([hashtable]$Result) { $Result.ok = $true; Write-Json $Result }
		function Write-Failure($Record) {
			$failure = $Record.Exception.GetBaseException()
			$kind = $failure.Data['certctl']
			if (-not $kind) { $kind = 'error'; if ($failure.HResult -eq -2147024891 -or $failure -is [UnauthorizedAccessException]) { $kind = 'access_denied' } }
			Write-Json @{ ok = $false; error = [string]$kind; message = $failure.Message }
			exit 1
		}
		`
	helperStop = `function Stop-Deployment([string]$Kind, [string]$Message) {
			$failure = New-Object Exception $Message
			$failure.Data['certctl'] = $Kind
			throw $failure
		}
		`
	helperWebAdministration = `function Import-WebAdministration {
			try { Import-Module WebAdministration -ErrorAction Stop } catch { Stop-Deployment 'module_missing' $_.Exception.Message }
		}
		`
	helperSite = `function Get-TargetSite {
			$found = Get-Website | Where-Object { $_.Name -eq $SiteName } | Select-Object -First 1
			if (-not $found) { Stop-Deployment 'site_not_found' $SiteName }
			$found
		}
		`
	helperBinding = `function Find-Binding {
			Get-WebBinding -Name $SiteName -Protocol https | Where-Object { $_.bindingInformation -eq $BindingInformation } | Select-Object -First 1
		}
		`
	// Open-Store opens a LocalMachine store for writing (which writes
	// nothing), failing if it does not exist rather than creating it.
	helperStore = `function Open-Store([string]$Name) {
			$opened = New-Object Security.Cryptography.X509Certificates.X509Store($Name, 'LocalMachine')
			try { $opened.Open('ReadWrite, OpenExistingOnly') }
			catch { if ($_.Exception.GetBaseException().HResult -eq -2147024894) { Stop-Deployment 'store_not_found' $Name }; throw }
			$opened
		}
		`
)

// iisHelpers are the helpers of the scripts that work with a binding.
var iisHelpers = []string{helperStop, helperWebAdministration, helperSite, helperBinding}

// bindingParams are the parameters naming the binding.
func bindingParams(c config) []param {
	return []param{{"SiteName", c.site}, {"BindingIP", c.bindingIP()}, {"BindingPort", c.bindingPort}, {"BindingHost", c.bindingHost}}
}

// probeScript checks the site and the store and reads the binding: the
// first step of a deployment, and all of a dry run. It changes nothing.
func probeScript(c config, thumbprint string) script {
	return script{op: "probe", params: append(bindingParams(c), param{"StoreName", c.store}, param{"Thumbprint", thumbprint}),
		helpers: append(append([]string{}, iisHelpers...), helperStore),
		body: `Import-WebAdministration
			$webSite = Get-TargetSite
			(Open-Store $StoreName).Close()
			$binding = Find-Binding
			$result = @{ site_id = [int]$webSite.id; binding_found = [bool]$binding; thumbprint = [string]$binding.certificateHash; store = [string]$binding.certificateStoreName; certificate_in_store = $false }
			$certPath = "Cert:\LocalMachine\$StoreName\$Thumbprint"
			if (Test-Path -LiteralPath $certPath) { $result.certificate_in_store = (Get-Item -LiteralPath $certPath).HasPrivateKey }
			Write-Result $result
			`}
}

// uploadScript writes (first) or appends a chunk of the PFX's base64 to
// the temporary file, and reports the file's length.
func uploadScript(tempName, chunk string, appendChunk bool) script {
	return script{op: "upload", secret: true,
		params: []param{{"TempName", tempName}, {"Chunk", chunk}, {"AppendChunk", appendChunk}},
		body: `$b64Path = Join-Path $env:TEMP "$TempName.b64"
			if ($AppendChunk) { [IO.File]::AppendAllText($b64Path, $Chunk) } else { [IO.File]::WriteAllText($b64Path, $Chunk) }
			Write-Result @{ length = (Get-Item -LiteralPath $b64Path).Length }
			`}
}

// uploadOverhead is the length of an upload script without its chunk.
func uploadOverhead(tempName string) int {
	return len(uploadScript(tempName, "", true).text())
}

// importScript decodes the uploaded PFX, imports it into the store and
// deletes the temporary files whatever happens. Chain certificates that
// Import-PfxCertificate put into the store are moved to LocalMachine\CA
// (intermediates, where Windows builds the chain IIS sends from) unless
// the store held them before; self-signed roots are trusted nowhere by
// this: trust is the host owner's decision. The script's length does not
// depend on the chain's.
func importScript(c config, tempName, thumbprint, password string) script {
	return script{op: "import", secret: true,
		params:  []param{{"TempName", tempName}, {"StoreName", c.store}, {"Thumbprint", thumbprint}, {"PfxPassword", password}},
		helpers: []string{helperStop, helperStore},
		body: `$b64Path = Join-Path $env:TEMP "$TempName.b64"
			$pfxPath = Join-Path $env:TEMP "$TempName.pfx"
			try {
				$storePath = "Cert:\LocalMachine\$StoreName"
				$preexisting = @(Get-ChildItem -LiteralPath $storePath | ForEach-Object { $_.Thumbprint })
				[IO.File]::WriteAllBytes($pfxPath, [Convert]::FromBase64String([IO.File]::ReadAllText($b64Path)))
				$securePassword = ConvertTo-SecureString $PfxPassword -AsPlainText -Force
				$imported = @(Import-PfxCertificate -FilePath $pfxPath -CertStoreLocation $storePath -Password $securePassword)
				$leaf = $imported | Where-Object { $_.Thumbprint -eq $Thumbprint } | Select-Object -First 1
				if (-not $leaf) { Stop-Deployment 'thumbprint_mismatch' '' }
				if (-not $leaf.HasPrivateKey) { Stop-Deployment 'no_private_key' '' }
				$moved = 0
				if ($StoreName -ne 'CA') {
					$intermediates = Open-Store 'CA'
					foreach ($cert in $imported) {
						if ($cert.Thumbprint -eq $Thumbprint) { continue }
						if ($cert.Subject -ne $cert.Issuer) { $intermediates.Add($cert) }
						$chainPath = "$storePath\$($cert.Thumbprint)"
						if ($preexisting -notcontains $cert.Thumbprint -and (Test-Path -LiteralPath $chainPath)) { Remove-Item -LiteralPath $chainPath; $moved++ }
					}
					$intermediates.Close()
				}
				Write-Result @{ thumbprint = $leaf.Thumbprint; chain_moved = $moved }
			} finally {
				Remove-Item -LiteralPath $b64Path, $pfxPath -Force -ErrorAction SilentlyContinue
			}
			`}
}

// cleanupScript deletes the temporary files of an upload that did not
// reach the import.
func cleanupScript(tempName string) script {
	return script{op: "cleanup", params: []param{{"TempName", tempName}},
		body: `Remove-Item -LiteralPath (Join-Path $env:TEMP "$TempName.b64"), (Join-Path $env:TEMP "$TempName.pfx") -Force -ErrorAction SilentlyContinue
			Write-Result @{}
			`}
}

// bindScript puts the certificate on the binding, creating the binding
// if it is missing (with SNI when it has a host name), and reads the
// binding back. AddSslCertificate fails on a binding that already has a
// certificate, so that one is removed first; restoreScript puts it back
// if adding the new one fails.
func bindScript(c config, thumbprint string) script {
	return script{op: "bind", params: append(bindingParams(c), param{"StoreName", c.store}, param{"Thumbprint", thumbprint}),
		helpers: iisHelpers,
		body: `Import-WebAdministration
			$webSite = Get-TargetSite
			$binding = Find-Binding
			$created = -not $binding
			if ($created) {
				$sslFlags = 0
				if ($BindingHost) { $sslFlags = 1 }
				New-WebBinding -Name $SiteName -Protocol https -IPAddress $BindingIP -Port $BindingPort -HostHeader $BindingHost -SslFlags $sslFlags | Out-Null
				$binding = Find-Binding
				if (-not $binding) { Stop-Deployment 'binding_not_found' '' }
			}
			if ($binding.certificateHash) { $binding.RemoveSslCertificate() }
			$binding.AddSslCertificate($Thumbprint, $StoreName)
			$binding = Find-Binding
			Write-Result @{ thumbprint = [string]$binding.certificateHash; store = [string]$binding.certificateStoreName; created = $created }
			`}
}

// restoreScript undoes a failed bind: the binding gets back the
// certificate it had (or none), a binding that did not exist is removed,
// and a certificate imported by this deployment is deleted with its key.
func restoreScript(c config, p probeResult, thumbprint string, removeCertificate bool) script {
	return script{op: "restore", params: append(bindingParams(c),
		param{"BindingExisted", p.BindingFound}, param{"PreviousThumbprint", p.Thumbprint}, param{"PreviousStore", storeName(p.Store)},
		param{"StoreName", c.store}, param{"Thumbprint", thumbprint}, param{"RemoveCertificate", removeCertificate}),
		helpers: []string{helperStop, helperWebAdministration, helperBinding},
		body: `Import-WebAdministration
			$binding = Find-Binding
			if ($BindingExisted) {
				if (-not $binding) { Stop-Deployment 'binding_not_found' '' }
				if ([string]$binding.certificateHash -ne $PreviousThumbprint) {
					if ($binding.certificateHash) { $binding.RemoveSslCertificate() }
					if ($PreviousThumbprint) { $binding.AddSslCertificate($PreviousThumbprint, $PreviousStore) }
				}
			} elseif ($binding) {
				if ($binding.certificateHash) { $binding.RemoveSslCertificate() }
				$binding | Remove-WebBinding
			}
			$certPath = "Cert:\LocalMachine\$StoreName\$Thumbprint"
			$removed = $RemoveCertificate -and (Test-Path -LiteralPath $certPath)
			if ($removed) { Remove-Item -LiteralPath $certPath -DeleteKey }
			Write-Result @{ thumbprint = [string](Find-Binding).certificateHash; certificate_removed = $removed }
			`}
}

// verifyScript reads the certificate the binding has.
func verifyScript(c config) script {
	return script{op: "verify", params: bindingParams(c), helpers: iisHelpers,
		body: `Import-WebAdministration
			$webSite = Get-TargetSite
			$binding = Find-Binding
			$result = @{ binding_found = [bool]$binding; thumbprint = [string]$binding.certificateHash; store = [string]$binding.certificateStoreName }
			$boundStore = $result.store
			if (-not $boundStore) { $boundStore = 'My' }
			$certPath = "Cert:\LocalMachine\$boundStore\$($result.thumbprint)"
			if ($result.thumbprint -and (Test-Path -LiteralPath $certPath)) {
				$cert = Get-Item -LiteralPath $certPath
				$result.certificate_found = $true
				$result.serial = $cert.SerialNumber
				$result.subject = $cert.Subject
				$result.not_after = $cert.NotAfter.ToUniversalTime().ToString('o')
			}
			Write-Result $result
			`}
}
