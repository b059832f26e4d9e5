// Command certctl-plugin-target-iis is certctl's IIS target: it deploys a
// certificate to a site of Microsoft IIS on a Windows host, reached over
// WinRM (WS-Management) by the agent, by running PowerShell there.
//
// NOT YET TRIED AGAINST A REAL WINDOWS HOST. Its tests run the plugin
// against a fake WinRM endpoint written in Go that speaks the
// WS-Management subset this client uses, authenticates with Basic and
// NTLMv2, and emulates the cmdlets the scripts call against an in-memory
// model of a Windows host. The PowerShell has not been run by PowerShell;
// treat this plugin as a preview until it has been on Windows Server.
//
// A deployment, in one WinRM shell:
//
//  1. probe: the site exists, the certificate store exists and is
//     writable, the https binding (ip_address:binding_port:binding_host)
//     and the thumbprint it serves now. If that is already the new
//     certificate's SHA-1 thumbprint, nothing else happens (Changed false).
//  2. upload: a PKCS#12 (PFX) of the key, certificate and chain, made in
//     memory and encrypted with a random one-time password, is written in
//     base64 to a file in the WinRM user's %TEMP%, a chunk per command
//     (see the limits below).
//  3. import: Import-PfxCertificate into Cert:\LocalMachine\<store>, the
//     key not exportable; intermediates are put into LocalMachine\CA where
//     IIS looks for them; the temporary files are deleted in a finally.
//  4. bind: the binding is created if missing (New-WebBinding, with SNI
//     when binding_host is set), its certificate removed and the new one
//     added (AddSslCertificate), and read back.
//  5. on failure of 4: restore, from what 1 saw: the previous certificate
//     goes back on the binding (or a binding 4 created is removed), and a
//     certificate 3 imported is deleted from the store with its key.
//
// A dry run does 1 only and changes nothing. ValidateDeployment reads the
// binding's certificate back through WinRM and compares its serial number;
// with verify_address it also completes a TLS handshake there.
//
// Limits of WinRM this plugin works within: WinRM's cmd shell runs each
// command line through cmd.exe, which takes at most 8191 characters;
// powershell.exe -EncodedCommand takes the script as base64 of UTF-16LE,
// 8/3 characters per script character, so a script holds at most about
// 3,000 characters (the scripts are written tersely, without indentation,
// for this; a test checks that each fits with the longest values a
// configuration allows). The PFX (about 2.7 KB in base64 for an ECDSA
// key, 6 KB for RSA-4096 with a chain) is therefore sent in chunks of
// 2,048 base64 characters, one command each, appended to a temporary
// file. A SOAP envelope may not exceed MaxEnvelopeSizekb (500 KB by
// default), far above what one command carries; WinRM's MaxShellsPerUser
// (30) is not approached: a call uses one shell, and deletes it.
//
// Secrets: the WinRM password and the PFX password are never logged and
// never appear in errors; the output of scripts that carry the PFX or its
// password is withheld from errors (a PowerShell error can quote script
// lines), and every message is scrubbed of them. Windows itself may
// record scripts: with PowerShell script block logging or process
// command-line auditing enabled, the event log can hold the one-time PFX
// password and the encrypted PFX chunks. Only HTTPS is supported: this
// client does not implement WinRM message encryption, and over plain HTTP
// the PFX and its password would cross the network readable.
//
// The files by concern: config.go reads the configuration, winrm.go runs
// scripts over WinRM, scripts.go holds the PowerShell, pfx.go prepares
// the certificate, deploy.go and validate.go are the two operations.
package main

import "github.com/certctl/certctl/sdk/plugin"

func main() { plugin.Serve(newTarget(plugin.Logger())) }
