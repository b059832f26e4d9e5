package main

// This file is a fake WinRM endpoint: an HTTPS server speaking the
// WS-Management subset the plugin's client uses (Create shell, Command,
// Receive, Signal, Delete shell), with WinRM's authentication (Basic,
// and NTLMv2 through Negotiate, which authenticates a connection), its
// faults, and cmd.exe's limit on a command line. Commands are handed to
// a fakeHost (fakehost_test.go), which runs the PowerShell.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	//lint:ignore SA1019 NTLM is built on MD4, as Windows computes it
	"golang.org/x/crypto/md4"
)

// WS-Management URIs.
const (
	actionCreate     = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
	actionDelete     = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
	actionCommand    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command"
	actionReceive    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive"
	actionSignal     = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal"
	resourceCmd      = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
	signalTerm       = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate"
	stateDone        = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"
	stateRunning     = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Running"
	maxEnvelope      = 512000 // MaxEnvelopeSizekb 500
	ntlmDomain       = "WINFAKE"
	ntlmComputer     = "WIN-IIS01"
	maxShellsPerUser = 30 // WinRM's MaxShellsPerUser
)

// fakeWinRM is the endpoint.
type fakeWinRM struct {
	t     testing.TB
	host  *fakeHost
	srv   *httptest.Server
	basic bool // WinRM's Auth/Basic; off by default on Windows
	// noNegotiate turns off WinRM's Auth/Negotiate (NTLM), leaving Basic.
	noNegotiate bool
	// basicSeen counts requests that carried Basic credentials.
	basicSeen int

	mu            sync.Mutex
	users         map[string]string // lower-case name → password
	remoteUsers   map[string]bool   // allowed to use WinRM (Administrators, Remote Management Users)
	shells        map[string]*fakeShell
	shellsCreated int
	shellsDeleted int
	signals       int
	maxCommand    int // longest command line seen
	authFailures  int
}

type fakeShell struct {
	id, user string
	commands map[string]*fakeCommand
}

type fakeCommand struct {
	id         string
	op         string
	run        func() (stdout, stderr string, exit int) // nil once run
	doneAt     time.Time
	stdout     string
	stderr     string
	exit       int
	done       bool
	terminated bool
	receives   int
}

// connState is what a connection has authenticated, for NTLM.
type connState struct {
	mu        sync.Mutex
	challenge []byte
	user      string
}

type connKey struct{}

// newFakeWinRM starts the endpoint over HTTPS with users name→password.
func newFakeWinRM(t testing.TB, host *fakeHost, users map[string]string) *fakeWinRM {
	t.Helper()
	f := &fakeWinRM{t: t, host: host, users: map[string]string{}, remoteUsers: map[string]bool{}, shells: map[string]*fakeShell{}}
	for u, p := range users {
		f.users[strings.ToLower(u)] = p
		f.remoteUsers[strings.ToLower(u)] = true
	}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, &connState{})
	}
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

// addr is the endpoint's host and port.
func (f *fakeWinRM) addr() (string, int) {
	a := f.srv.Listener.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

// caPEM is the PEM of the endpoint's self-signed certificate.
func (f *fakeWinRM) caPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw}))
}

// openShells counts the shells not deleted.
func (f *fakeWinRM) openShells() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.shells)
}

func (f *fakeWinRM) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/wsman" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	user, ok := f.authenticate(w, r)
	if !ok {
		return
	}
	if !strings.Contains(r.Header.Get("Content-Type"), "application/soap+xml") {
		w.WriteHeader(http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxEnvelope+1))
	if err != nil {
		return
	}
	if len(body) > maxEnvelope {
		f.fault(w, "w:EncodingLimit", "2150858811", "The WS-Management service cannot process the request because the request is too large.")
		return
	}
	if !f.allowed(user) {
		f.fault(w, "w:AccessDenied", "5", "Access is denied.")
		return
	}
	var env soapRequest
	if err := xml.Unmarshal(body, &env); err != nil {
		f.fault(w, "w:SchemaValidationError", "2150858817", "The SOAP XML in the message does not match the corresponding XML schema definition.")
		return
	}
	if env.Header.ResourceURI != resourceCmd {
		f.fault(w, "w:DestinationUnreachable", "2150858770", "The WS-Management service cannot process the request because the resource URI is not valid.")
		return
	}
	switch env.Header.Action {
	case actionCreate:
		f.create(w, env, user)
	case actionCommand:
		f.command(w, env)
	case actionReceive:
		f.receive(w, r, env)
	case actionSignal:
		f.signal(w, env)
	case actionDelete:
		f.delete(w, env)
	default:
		f.fault(w, "a:ActionNotSupported", "2150858759", "The action is not supported by the service.")
	}
}

func (f *fakeWinRM) allowed(user string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.remoteUsers[strings.ToLower(user)]
}

// soapRequest is the part of a request envelope the endpoint reads.
type soapRequest struct {
	Header struct {
		Action           string `xml:"Action"`
		MessageID        string `xml:"MessageID"`
		ResourceURI      string `xml:"ResourceURI"`
		OperationTimeout string `xml:"OperationTimeout"`
		SelectorSet      struct {
			Selectors []struct {
				Name  string `xml:"Name,attr"`
				Value string `xml:",chardata"`
			} `xml:"Selector"`
		} `xml:"SelectorSet"`
	} `xml:"Header"`
	Body struct {
		Shell *struct {
			InputStreams  string `xml:"InputStreams"`
			OutputStreams string `xml:"OutputStreams"`
		} `xml:"Shell"`
		CommandLine *struct {
			Command   string   `xml:"Command"`
			Arguments []string `xml:"Arguments"`
		} `xml:"CommandLine"`
		Receive *struct {
			DesiredStream struct {
				CommandID string `xml:"CommandId,attr"`
				Streams   string `xml:",chardata"`
			} `xml:"DesiredStream"`
		} `xml:"Receive"`
		Signal *struct {
			CommandID string `xml:"CommandId,attr"`
			Code      string `xml:"Code"`
		} `xml:"Signal"`
	} `xml:"Body"`
}

func (r soapRequest) shellID() string {
	for _, s := range r.Header.SelectorSet.Selectors {
		if s.Name == "ShellId" {
			return strings.TrimSpace(s.Value)
		}
	}
	return ""
}

func (f *fakeWinRM) shell(w http.ResponseWriter, env soapRequest) (*fakeShell, bool) {
	id := env.shellID()
	f.mu.Lock()
	s := f.shells[id]
	f.mu.Unlock()
	if s == nil {
		f.fault(w, "w:InvalidSelectors", "2150858843", fmt.Sprintf("The request for the Windows Remote Shell with ShellId %s failed because the shell was not found on the server. Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server. Provide the correct ShellId or create a new shell and retry the operation.", id))
		return nil, false
	}
	return s, true
}

func (f *fakeWinRM) create(w http.ResponseWriter, env soapRequest, user string) {
	if env.Body.Shell == nil {
		f.fault(w, "w:SchemaValidationError", "2150858817", "The Create request has no Shell.")
		return
	}
	f.mu.Lock()
	n := 0
	for _, s := range f.shells {
		if strings.EqualFold(s.user, user) {
			n++
		}
	}
	if n >= maxShellsPerUser {
		f.mu.Unlock()
		f.fault(w, "w:QuotaLimit", "2150859173", "The WS-Management service cannot process the request. This user is allowed a maximum number of 30 concurrent shells, which has been exceeded.")
		return
	}
	id := newUUID()
	f.shells[id] = &fakeShell{id: id, user: user, commands: map[string]*fakeCommand{}}
	f.shellsCreated++
	f.mu.Unlock()
	f.respond(w, env, "http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse", fmt.Sprintf(
		`<x:ResourceCreated><a:Address>%s/wsman</a:Address><a:ReferenceParameters><w:ResourceURI>%s</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">%s</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>`+
			`<rsp:Shell xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><rsp:ShellId>%s</rsp:ShellId><rsp:ResourceUri>%s</rsp:ResourceUri><rsp:Owner>%s</rsp:Owner><rsp:ClientIP>127.0.0.1</rsp:ClientIP><rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams><rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime><rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity></rsp:Shell>`,
		f.srv.URL, resourceCmd, id, id, resourceCmd, xmlText(user)))
}

func (f *fakeWinRM) command(w http.ResponseWriter, env soapRequest) {
	s, ok := f.shell(w, env)
	if !ok {
		return
	}
	if env.Body.CommandLine == nil {
		f.fault(w, "w:SchemaValidationError", "2150858817", "The Command request has no CommandLine.")
		return
	}
	line := strings.TrimSpace(env.Body.CommandLine.Command)
	if len(env.Body.CommandLine.Arguments) > 0 {
		line += " " + strings.Join(env.Body.CommandLine.Arguments, " ")
	}
	cmd := &fakeCommand{id: newUUID()}
	f.mu.Lock()
	if len(line) > f.maxCommand {
		f.maxCommand = len(line)
	}
	f.mu.Unlock()
	// cmd.exe runs the command line (WINRS_SKIP_CMD_SHELL is FALSE).
	if len(line) > maxCommandLine {
		cmd.done, cmd.stderr, cmd.exit = true, "The command line is too long.\r\n", 1
	} else {
		op, run, delay := f.host.prepare(s.user, line)
		cmd.op, cmd.run, cmd.doneAt = op, run, time.Now().Add(delay)
	}
	f.mu.Lock()
	s.commands[cmd.id] = cmd
	f.mu.Unlock()
	f.respond(w, env, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandResponse",
		`<rsp:CommandResponse><rsp:CommandId>`+cmd.id+`</rsp:CommandId></rsp:CommandResponse>`)
}

// receive long-polls: it answers when the command has output or has
// ended, or with a TimedOut fault after the request's OperationTimeout.
func (f *fakeWinRM) receive(w http.ResponseWriter, r *http.Request, env soapRequest) {
	s, ok := f.shell(w, env)
	if !ok || env.Body.Receive == nil {
		if ok {
			f.fault(w, "w:SchemaValidationError", "2150858817", "The Receive request has no DesiredStream.")
		}
		return
	}
	f.mu.Lock()
	cmd := s.commands[env.Body.Receive.DesiredStream.CommandID]
	f.mu.Unlock()
	if cmd == nil {
		f.fault(w, "w:InvalidParameter", "2150858882", "The WinRM Shell client cannot process the request. The command ID is not valid.")
		return
	}
	timeout := parseISODuration(env.Header.OperationTimeout)
	deadline := time.Now().Add(timeout)
	for {
		f.mu.Lock()
		ready := cmd.done || cmd.terminated || !time.Now().Before(cmd.doneAt)
		f.mu.Unlock()
		if ready {
			break
		}
		if !time.Now().Before(deadline) {
			f.fault(w, "w:TimedOut", "2150858793", "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.")
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	f.mu.Lock()
	run := cmd.run
	cmd.run = nil
	terminated := cmd.terminated
	f.mu.Unlock()
	if run != nil && !terminated {
		stdout, stderr, exit := run()
		f.mu.Lock()
		cmd.stdout, cmd.stderr, cmd.exit, cmd.done = stdout, stderr, exit, true
		f.mu.Unlock()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cmd.receives++
	var b strings.Builder
	b.WriteString("<rsp:ReceiveResponse>")
	stream := func(name, data string, end bool) {
		fmt.Fprintf(&b, `<rsp:Stream Name="%s" CommandId="%s"`, name, cmd.id)
		if end {
			b.WriteString(` End="true"`)
		}
		fmt.Fprintf(&b, `>%s</rsp:Stream>`, base64.StdEncoding.EncodeToString([]byte(data)))
	}
	// Output comes in two responses when there is some: the first half
	// while the command is "running", the rest with its end, as a
	// command that prints over time does.
	if cmd.receives == 1 && len(cmd.stdout) > 1 {
		half := len(cmd.stdout) / 2
		stream("stdout", cmd.stdout[:half], false)
		cmd.stdout = cmd.stdout[half:]
		fmt.Fprintf(&b, `<rsp:CommandState CommandId="%s" State="%s"/></rsp:ReceiveResponse>`, cmd.id, stateRunning)
	} else {
		stream("stdout", cmd.stdout, true)
		stream("stderr", cmd.stderr, true)
		cmd.stdout, cmd.stderr = "", ""
		fmt.Fprintf(&b, `<rsp:CommandState CommandId="%s" State="%s"><rsp:ExitCode>%d</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>`,
			cmd.id, stateDone, cmd.exit)
	}
	f.respondLocked(w, env, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse", b.String())
}

func (f *fakeWinRM) signal(w http.ResponseWriter, env soapRequest) {
	s, ok := f.shell(w, env)
	if !ok || env.Body.Signal == nil {
		if ok {
			f.fault(w, "w:SchemaValidationError", "2150858817", "The Signal request has no Signal.")
		}
		return
	}
	f.mu.Lock()
	cmd := s.commands[env.Body.Signal.CommandID]
	if cmd != nil && strings.TrimSpace(env.Body.Signal.Code) == signalTerm {
		cmd.terminated = true
		f.signals++
		delete(s.commands, cmd.id)
	}
	f.mu.Unlock()
	if cmd == nil {
		f.fault(w, "w:InvalidParameter", "2150858882", "The WinRM Shell client cannot process the request. The command ID is not valid.")
		return
	}
	f.respond(w, env, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SignalResponse", `<rsp:SignalResponse/>`)
}

func (f *fakeWinRM) delete(w http.ResponseWriter, env soapRequest) {
	if _, ok := f.shell(w, env); !ok {
		return
	}
	f.mu.Lock()
	delete(f.shells, env.shellID())
	f.shellsDeleted++
	f.mu.Unlock()
	f.respond(w, env, "http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse", "")
}

const envelopeOpen = `<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">`

func (f *fakeWinRM) respond(w http.ResponseWriter, env soapRequest, action, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.respondLocked(w, env, action, body)
}

func (f *fakeWinRM) respondLocked(w http.ResponseWriter, env soapRequest, action, body string) {
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	fmt.Fprintf(w, `%s<s:Header><a:Action>%s</a:Action><a:MessageID>uuid:%s</a:MessageID><a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To><a:RelatesTo>%s</a:RelatesTo></s:Header><s:Body>%s</s:Body></s:Envelope>`,
		envelopeOpen, action, newUUID(), xmlText(env.Header.MessageID), body)
}

// fault answers with a WS-Management fault, as WinRM does: HTTP 500.
func (f *fakeWinRM) fault(w http.ResponseWriter, subcode, code, message string) {
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, `%s<s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action><a:MessageID>uuid:%s</a:MessageID></s:Header><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>%s</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">%s</s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="%s" Machine="%s"><f:Message>%s</f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`,
		envelopeOpen, newUUID(), subcode, xmlText(message), code, ntlmComputer, xmlText(message))
}

// authenticate checks the request's credentials as WinRM does and
// answers 401 when they fail; it returns the user.
func (f *fakeWinRM) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	state := r.Context().Value(connKey{}).(*connState)
	authz := r.Header.Get("Authorization")
	unauthorized := func(extra ...string) (string, bool) {
		io.Copy(io.Discard, r.Body)
		f.mu.Lock()
		f.authFailures++
		f.mu.Unlock()
		for _, v := range extra {
			w.Header().Add("WWW-Authenticate", v)
		}
		if len(extra) == 0 {
			f.mu.Lock()
			negotiate, basic := !f.noNegotiate, f.basic
			f.mu.Unlock()
			if negotiate {
				w.Header().Add("WWW-Authenticate", "Negotiate")
				w.Header().Add("WWW-Authenticate", "Kerberos")
			}
			if basic {
				w.Header().Add("WWW-Authenticate", `Basic realm="WSMAN"`)
			}
		}
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusUnauthorized)
		return "", false
	}
	scheme, data, _ := strings.Cut(authz, " ")
	switch {
	case authz == "":
		state.mu.Lock()
		user := state.user
		state.mu.Unlock()
		if user != "" { // NTLM authenticated this connection
			return user, true
		}
		return unauthorized()
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(data)
		user, pass, ok := strings.Cut(string(raw), ":")
		f.mu.Lock()
		f.basicSeen++
		basic := f.basic
		f.mu.Unlock()
		if err != nil || !ok || !basic || !f.checkPassword(user, pass) {
			return unauthorized()
		}
		return accountName(user), true
	case strings.EqualFold(scheme, "Negotiate") || strings.EqualFold(scheme, "NTLM"):
		f.mu.Lock()
		off := f.noNegotiate
		f.mu.Unlock()
		msg, err := base64.StdEncoding.DecodeString(data)
		if off {
			return unauthorized()
		}
		if err != nil || len(msg) < 12 || !bytes.Equal(msg[:8], []byte("NTLMSSP\x00")) {
			return unauthorized()
		}
		switch binary.LittleEndian.Uint32(msg[8:12]) {
		case 1:
			challenge := make([]byte, 8)
			rand.Read(challenge)
			state.mu.Lock()
			state.challenge, state.user = challenge, ""
			state.mu.Unlock()
			return unauthorized(scheme + " " + base64.StdEncoding.EncodeToString(ntlmChallenge(challenge)))
		case 3:
			state.mu.Lock()
			challenge := state.challenge
			state.challenge = nil
			state.mu.Unlock()
			user, ok := f.verifyNTLM(msg, challenge)
			if !ok {
				return unauthorized()
			}
			state.mu.Lock()
			state.user = user
			state.mu.Unlock()
			return user, true
		}
	}
	return unauthorized()
}

func (f *fakeWinRM) checkPassword(user, pass string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	want, ok := f.users[strings.ToLower(accountName(user))]
	return ok && hmac.Equal([]byte(want), []byte(pass))
}

// accountName strips a "DOMAIN\" or ".\" prefix.
func accountName(user string) string {
	if _, after, ok := strings.Cut(user, `\`); ok {
		return after
	}
	return user
}

// ntlmChallenge is a CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2) with the
// flags Windows answers the client's NEGOTIATE with.
func ntlmChallenge(challenge []byte) []byte {
	const (
		flagUnicode        = 1 << 0
		flagRequestTarget  = 1 << 2
		flagNTLM           = 1 << 9
		flagAlwaysSign     = 1 << 15
		flagTargetDomain   = 1 << 16
		flagExtendedSecure = 1 << 19
		flagTargetInfo     = 1 << 23
		flagVersion        = 1 << 25
		flag128            = 1 << 29
		flag56             = 1 << 31
	)
	target := utf16le(ntlmDomain)
	var info bytes.Buffer
	av := func(id uint16, v []byte) {
		binary.Write(&info, binary.LittleEndian, id)
		binary.Write(&info, binary.LittleEndian, uint16(len(v)))
		info.Write(v)
	}
	ft := make([]byte, 8)
	binary.LittleEndian.PutUint64(ft, uint64(time.Now().UnixNano()/100)+116444736000000000)
	av(2, utf16le(ntlmDomain))
	av(1, utf16le(ntlmComputer))
	av(4, utf16le(strings.ToLower(ntlmDomain)+".test"))
	av(3, utf16le(strings.ToLower(ntlmComputer)+"."+strings.ToLower(ntlmDomain)+".test"))
	av(7, ft)
	av(0, nil)
	const header = 56 // fixed fields and Version
	var m bytes.Buffer
	m.WriteString("NTLMSSP\x00")
	binary.Write(&m, binary.LittleEndian, uint32(2))
	binary.Write(&m, binary.LittleEndian, [2]uint16{uint16(len(target)), uint16(len(target))})
	binary.Write(&m, binary.LittleEndian, uint32(header))
	binary.Write(&m, binary.LittleEndian, uint32(flagUnicode|flagRequestTarget|flagNTLM|flagAlwaysSign|flagTargetDomain|
		flagExtendedSecure|flagTargetInfo|flagVersion|flag128|flag56))
	m.Write(challenge)
	m.Write(make([]byte, 8))
	binary.Write(&m, binary.LittleEndian, [2]uint16{uint16(info.Len()), uint16(info.Len())})
	binary.Write(&m, binary.LittleEndian, uint32(header+len(target)))
	m.Write([]byte{10, 0, 0x63, 0x45, 0, 0, 0, 15}) // Windows 10.0.17763, NTLM revision 15
	m.Write(target)
	m.Write(info.Bytes())
	return m.Bytes()
}

// verifyNTLM checks an AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3) against the
// challenge: the NTLMv2 response must be the HMAC-MD5 proof that only the
// user's password gives.
func (f *fakeWinRM) verifyNTLM(msg, challenge []byte) (string, bool) {
	if challenge == nil || len(msg) < 64 {
		return "", false
	}
	field := func(off int) ([]byte, bool) {
		n := int(binary.LittleEndian.Uint16(msg[off:]))
		at := int(binary.LittleEndian.Uint32(msg[off+4:]))
		if at+n > len(msg) || at < 0 {
			return nil, false
		}
		return msg[at : at+n], true
	}
	nt, ok1 := field(20)
	domain, ok2 := field(28)
	user, ok3 := field(36)
	if !ok1 || !ok2 || !ok3 || len(nt) < 16+28 {
		return "", false
	}
	name, dom := fromUTF16le(user), fromUTF16le(domain)
	f.mu.Lock()
	password, known := f.users[strings.ToLower(name)]
	f.mu.Unlock()
	// A user named without a domain comes with an empty one (go-ntlmssp
	// since v0.1 sends what the username says), which Windows takes as
	// its own: the domain, or the computer for a local account. The proof
	// is computed over the domain as sent.
	if !known || !(dom == "" || strings.EqualFold(dom, ntlmDomain) || strings.EqualFold(dom, ntlmComputer)) {
		return "", false
	}
	h := md4.New()
	h.Write(utf16le(password))
	ntowf := hmacMD5(h.Sum(nil), utf16le(strings.ToUpper(name)+dom))
	proof := hmacMD5(ntowf, challenge, nt[16:])
	if !hmac.Equal(proof, nt[:16]) {
		return "", false
	}
	return name, true
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

func fromUTF16le(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	h := strings.ToUpper(hex.EncodeToString(b))
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// parseISODuration reads "PT20S" or "PT20.000S"; anything else is 60s.
func parseISODuration(s string) time.Duration {
	if rest, ok := strings.CutPrefix(s, "PT"); ok {
		if d, err := time.ParseDuration(strings.ToLower(rest)); err == nil {
			return d
		}
	}
	return 60 * time.Second
}
