package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeBigIP is a stateful fake of the iControl REST endpoints the plugin
// uses, answering as a BIG-IP does (as F5 documents it), errors
// included:
//
//   - token login and logout; every other call needs a live token in
//     X-F5-Auth-Token, and tokens expire (after tokenMaxUses calls) or
//     are deleted;
//   - the file-transfer worker, with Content-Range chunks of at most
//     1 MiB, storing files under /var/config/rest/downloads, and the
//     unix-rm utility removing them;
//   - sys crypto cert and key objects installed from uploaded files,
//     parsed so that GET reports serialNumber, subject and SANs;
//   - partitions, client-SSL profiles (certKeyChain checked: objects
//     exist, key matches certificate) and virtual servers' profiles;
//   - transactions: calls carrying X-F5-REST-Coordination-Id are queued
//     and applied on commit, all or nothing, on a copy of the state; a
//     failed or deleted transaction leaves the state as it was. A write
//     to an LTM object outside the open transaction is recorded as a
//     violation.
//
// It records every call. A virtual server's TLS listener (serveVirtual)
// presents the certificate its client-SSL profile references.
type fakeBigIP struct {
	t        testing.TB
	srv      *httptest.Server
	user     string
	password string

	mu           sync.Mutex
	tokens       map[string]*fakeToken
	tokenMaxUses int // > 0: a token expires after this many calls
	files        map[string]*fakeFile
	st           fakeState
	txns         map[string]*fakeTxn
	nextTxn      int64
	calls        []fakeCall
	violations   []string
	// fault, when set, may answer a call instead of the fake (it sees
	// calls queued in a transaction as they arrive).
	fault func(c fakeCall) *fakeReply
	// failCommit, when set, makes the next commit fail validation with
	// this message, as a BIG-IP refusing the configuration does.
	failCommit string
}

type fakeToken struct {
	value            string
	uses             int
	expired, deleted bool
}

type fakeFile struct {
	data  []byte
	total int
}

// fakeState is the configuration: what transactions apply to.
type fakeState struct {
	partitions map[string]bool
	certs      map[string]*fakeCert // by full path
	keys       map[string]*fakeKey
	profiles   map[string]*fakeProfile
	virtuals   map[string][]fakeAttached
}

type fakeCert struct {
	certs   []*x509.Certificate
	created time.Time
}

type fakeKey struct {
	signer crypto.Signer
}

type fakeChainEntry struct {
	Name  string `json:"name"`
	Cert  string `json:"cert"`
	Key   string `json:"key"`
	Chain string `json:"chain,omitempty"`
}

type fakeProfile struct {
	defaultsFrom string
	chain        []fakeChainEntry
	generation   int
}

type fakeAttached struct{ fullPath, context string }

type fakeTxn struct {
	id    string
	state string // STARTED, COMPLETED, FAILED
	ops   []fakeCall
}

// fakeCall is one recorded call.
type fakeCall struct {
	Method, Path string
	Txn          string // X-F5-REST-Coordination-Id
	Token        string // X-F5-Auth-Token
	ContentRange string
	Body         []byte
	Status       int
}

type fakeReply struct {
	status int
	body   any
}

// newFakeBigIP starts a fake with user admin and password, partition
// Common, the parent profile /Common/clientssl and a virtual server
// /Common/vs_www with the http and tcp profiles.
func newFakeBigIP(t testing.TB, password string) *fakeBigIP {
	t.Helper()
	f := &fakeBigIP{t: t, user: "admin", password: password, tokens: map[string]*fakeToken{},
		files: map[string]*fakeFile{}, txns: map[string]*fakeTxn{}, nextTxn: 1700000000000000,
		st: fakeState{partitions: map[string]bool{"Common": true}, certs: map[string]*fakeCert{},
			keys: map[string]*fakeKey{}, profiles: map[string]*fakeProfile{},
			virtuals: map[string][]fakeAttached{}}}
	// The factory default.crt/default.key pair that /Common/clientssl uses.
	cert, key := selfSigned(t, "localhost.localdomain")
	f.st.certs["/Common/default.crt"] = &fakeCert{certs: []*x509.Certificate{cert}, created: time.Now()}
	f.st.keys["/Common/default.key"] = &fakeKey{signer: key}
	f.st.profiles["/Common/clientssl"] = &fakeProfile{defaultsFrom: "none",
		chain: []fakeChainEntry{{Name: "default", Cert: "/Common/default.crt", Key: "/Common/default.key"}}}
	f.st.virtuals["/Common/vs_www"] = []fakeAttached{{"/Common/http", "all"}, {"/Common/tcp", "all"}}
	f.srv = httptest.NewUnstartedServer(f)
	// Handshakes refused by a client that does not trust the fake are
	// part of the tests, not news.
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

// address is the fake's https://host:port.
func (f *fakeBigIP) address() string { return f.srv.URL }

// caPEM is the fake's TLS certificate, to trust with ca_cert_pem.
func (f *fakeBigIP) caPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw}))
}

func (f *fakeBigIP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	c := fakeCall{Method: r.Method, Path: r.URL.Path, Txn: r.Header.Get("X-F5-REST-Coordination-Id"),
		Token: r.Header.Get("X-F5-Auth-Token"), ContentRange: r.Header.Get("Content-Range"), Body: body}
	f.mu.Lock()
	reply := f.handle(c, r)
	c.Status = reply.status
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(reply.status)
	_ = json.NewEncoder(w).Encode(reply.body)
}

// f5Error is an iControl REST error answer.
func f5Error(status int, format string, args ...any) fakeReply {
	return fakeReply{status, map[string]any{"code": status, "message": fmt.Sprintf(format, args...), "errorStack": []any{}, "apiError": 3}}
}

func ok(body any) fakeReply { return fakeReply{http.StatusOK, body} }

// handle answers one call; f.mu is held.
func (f *fakeBigIP) handle(c fakeCall, r *http.Request) fakeReply {
	if c.Method == http.MethodPost && c.Path == "/mgmt/shared/authn/login" {
		return f.login(c)
	}
	if reply, ok := f.authenticate(c); !ok {
		return reply
	}
	if f.fault != nil {
		if reply := f.fault(c); reply != nil {
			return *reply
		}
	}
	switch {
	case strings.HasPrefix(c.Path, "/mgmt/shared/authz/tokens/") && c.Method == http.MethodDelete:
		tok := f.tokens[strings.TrimPrefix(c.Path, "/mgmt/shared/authz/tokens/")]
		if tok == nil || tok.deleted {
			return f5Error(404, "Token not found")
		}
		tok.deleted = true
		return ok(map[string]any{"token": tok.value, "kind": "shared:authz:tokens:authtokenitemstate"})
	case strings.HasPrefix(c.Path, "/mgmt/shared/file-transfer/uploads/") && c.Method == http.MethodPost:
		return f.upload(c, r)
	case c.Path == "/mgmt/tm/transaction" || strings.HasPrefix(c.Path, "/mgmt/tm/transaction/"):
		return f.transaction(c)
	case c.Txn != "":
		return f.enqueue(c)
	}
	if c.Method != http.MethodGet && strings.HasPrefix(c.Path, "/mgmt/tm/ltm/") {
		for _, tx := range f.txns {
			if tx.state == "STARTED" {
				f.violations = append(f.violations, fmt.Sprintf("%s %s without %s while transaction %s is open",
					c.Method, c.Path, headerTransaction, tx.id))
			}
		}
	}
	return f.apply(&f.st, c)
}

func (f *fakeBigIP) login(c fakeCall) fakeReply {
	var req struct {
		Username, Password, LoginProviderName string
	}
	if err := json.Unmarshal(c.Body, &req); err != nil {
		return f5Error(400, "Found invalid JSON body in the request.")
	}
	if req.Username != f.user || req.Password != f.password || req.LoginProviderName != "tmos" {
		// As a BIG-IP does, the refusal echoes the request, password and all.
		return fakeReply{401, map[string]any{"code": 401, "message": "Authentication failed.",
			"originalRequestBody": string(c.Body), "referer": "127.0.0.1", "restOperationId": 4242,
			"kind": ":resterrorresponse"}}
	}
	tok := &fakeToken{value: strings.ToUpper(randomHex(13))}
	f.tokens[tok.value] = tok
	return ok(map[string]any{"username": req.Username, "loginProviderName": "tmos",
		"token": map[string]any{"token": tok.value, "name": tok.value, "userName": req.Username, "authProviderName": "tmos",
			"timeout": 1200, "kind": "shared:authz:tokens:authtokenitemstate",
			"selfLink": "https://localhost/mgmt/shared/authz/tokens/" + tok.value},
		"generation": 0, "lastUpdateMicros": 0})
}

// authenticate checks the token of a call.
func (f *fakeBigIP) authenticate(c fakeCall) (fakeReply, bool) {
	if c.Token == "" {
		return fakeReply{401, map[string]any{"code": 401, "message": "Authorization failed: no user authentication header or token detected. Uri:http://localhost:8100" + c.Path,
			"referer": "127.0.0.1", "restOperationId": 4243, "kind": ":resterrorresponse"}}, false
	}
	tok := f.tokens[c.Token]
	if tok == nil || tok.deleted {
		return fakeReply{401, map[string]any{"code": 401, "message": "X-F5-Auth-Token does not exist.",
			"referer": "127.0.0.1", "restOperationId": 4244, "kind": ":resterrorresponse"}}, false
	}
	tok.uses++
	if f.tokenMaxUses > 0 && tok.uses > f.tokenMaxUses {
		tok.expired = true
	}
	if tok.expired {
		return fakeReply{401, map[string]any{"code": 401, "message": "X-F5-Auth-Token has expired.",
			"referer": "127.0.0.1", "restOperationId": 4245, "kind": ":resterrorresponse"}}, false
	}
	return fakeReply{}, true
}

var contentRange = regexp.MustCompile(`^(\d+)-(\d+)/(\d+)$`)

func (f *fakeBigIP) upload(c fakeCall, r *http.Request) fakeReply {
	name := strings.TrimPrefix(c.Path, "/mgmt/shared/file-transfer/uploads/")
	if name == "" || strings.Contains(name, "/") || strings.HasPrefix(name, ".") {
		return f5Error(400, "Invalid file name %q", name)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/octet-stream" {
		return f5Error(400, "Content-Type must be application/octet-stream, got %q", ct)
	}
	m := contentRange.FindStringSubmatch(c.ContentRange)
	if m == nil {
		return f5Error(400, "Content-Range header is missing or invalid: %q", c.ContentRange)
	}
	start, _ := strconv.Atoi(m[1])
	end, _ := strconv.Atoi(m[2])
	total, _ := strconv.Atoi(m[3])
	if end < start || end >= total || end-start+1 != len(c.Body) {
		return f5Error(400, "Content-Range %s does not match the %d bytes of the body", c.ContentRange, len(c.Body))
	}
	if len(c.Body) > 1<<20 {
		return f5Error(400, "Chunk of %d bytes is larger than the maximum of 1048576", len(c.Body))
	}
	file := f.files[name]
	if start == 0 {
		file = &fakeFile{total: total}
		f.files[name] = file
	}
	if file == nil || file.total != total || start != len(file.data) {
		return f5Error(400, "Content-Range %s does not continue the upload of %s", c.ContentRange, name)
	}
	file.data = append(file.data, c.Body...)
	return ok(map[string]any{"remainingByteCount": total - end - 1, "usedChunks": map[string]int{"0": len(c.Body)},
		"totalByteCount": total, "localFilePath": downloadsDir + name, "temporaryFilePath": downloadsDir + "tmp/" + name,
		"generation": 0, "lastUpdateMicros": time.Now().UnixMicro()})
}

// transaction serves /mgmt/tm/transaction.
func (f *fakeBigIP) transaction(c fakeCall) fakeReply {
	id := strings.TrimPrefix(strings.TrimPrefix(c.Path, "/mgmt/tm/transaction"), "/")
	if id == "" {
		if c.Method != http.MethodPost {
			return f5Error(405, "Method not allowed")
		}
		if c.Txn != "" {
			f.violations = append(f.violations, "a transaction was opened inside another")
		}
		f.nextTxn++
		tx := &fakeTxn{id: strconv.FormatInt(f.nextTxn, 10), state: "STARTED"}
		f.txns[tx.id] = tx
		return ok(txnBody(tx))
	}
	tx := f.txns[id]
	if tx == nil {
		return f5Error(404, "Transaction with ID %s not found", id)
	}
	switch c.Method {
	case http.MethodGet:
		return ok(txnBody(tx))
	case http.MethodDelete:
		delete(f.txns, id)
		return ok(txnBody(tx))
	case http.MethodPatch:
	default:
		return f5Error(405, "Method not allowed")
	}
	if c.Txn != "" {
		f.violations = append(f.violations, "the commit carried "+headerTransaction)
		return f5Error(400, "Transaction %s cannot be committed from inside itself", id)
	}
	var req struct {
		State string `json:"state"`
	}
	if json.Unmarshal(c.Body, &req) != nil || req.State != "VALIDATING" {
		return f5Error(400, "Found invalid JSON body in the request.")
	}
	if tx.state != "STARTED" {
		return f5Error(400, "Transaction %s is %s", id, tx.state)
	}
	if len(tx.ops) == 0 {
		return f5Error(400, "Transaction %s has no commands to commit", id)
	}
	if f.failCommit != "" {
		msg := f.failCommit
		f.failCommit = ""
		tx.state = "FAILED"
		return f5Error(400, "transaction failed:%s", msg)
	}
	next := f.st.clone()
	for _, op := range tx.ops {
		if reply := f.apply(&next, op); reply.status/100 != 2 {
			tx.state = "FAILED"
			msg, _ := reply.body.(map[string]any)["message"].(string)
			return f5Error(reply.status, "transaction failed:%s", msg)
		}
	}
	f.st = next
	tx.state = "COMPLETED"
	return ok(txnBody(tx))
}

func txnBody(tx *fakeTxn) map[string]any {
	id, _ := strconv.ParseInt(tx.id, 10, 64)
	return map[string]any{"transId": id, "state": tx.state, "timeoutSeconds": 120, "asyncExecution": false,
		"validateOnly": false, "executionTimeout": 300, "executionTime": 0, "failureReason": "",
		"kind": "tm:transactionstate", "selfLink": "https://localhost/mgmt/tm/transaction/" + tx.id + "?ver=17.1.0"}
}

// enqueue adds a call to its transaction, checking its body now and
// applying it at commit.
func (f *fakeBigIP) enqueue(c fakeCall) fakeReply {
	tx := f.txns[c.Txn]
	if tx == nil {
		return f5Error(404, "Transaction with ID %s not found", c.Txn)
	}
	if tx.state != "STARTED" {
		return f5Error(400, "Transaction %s is %s", tx.id, tx.state)
	}
	if c.Method == http.MethodGet {
		return f5Error(400, "GET requests are not allowed in a transaction")
	}
	var body any
	if len(c.Body) > 0 && json.Unmarshal(c.Body, &body) != nil {
		return f5Error(400, "Found invalid JSON body in the request.")
	}
	tx.ops = append(tx.ops, c)
	return ok(map[string]any{"transId": tx.id, "method": c.Method, "uri": "https://localhost" + c.Path, "body": body,
		"evalOrder": len(tx.ops), "commandId": len(tx.ops), "kind": "tm:transaction:commandsstate"})
}

// fullPath reads a name from a URL (~Common~x, or x for /Common/x) or
// a body (/Common/x, or x in partition).
func fullPath(name, partition string) string {
	if strings.HasPrefix(name, "~") {
		return strings.ReplaceAll(name, "~", "/")
	}
	if strings.HasPrefix(name, "/") {
		return name
	}
	if partition == "" {
		partition = "Common"
	}
	return "/" + partition + "/" + name
}

// apply runs one configuration call on st.
func (f *fakeBigIP) apply(st *fakeState, c fakeCall) fakeReply {
	p := c.Path
	switch {
	case strings.HasPrefix(p, "/mgmt/tm/auth/partition/") && c.Method == http.MethodGet:
		name := strings.TrimPrefix(p, "/mgmt/tm/auth/partition/")
		if !st.partitions[name] {
			return f5Error(404, "01020036:3: The requested partition (%s) was not found.", name)
		}
		return ok(map[string]any{"kind": "tm:auth:partition:partitionstate", "name": name, "fullPath": name, "defaultRouteDomain": 0})
	case p == "/mgmt/tm/sys/crypto/cert" || p == "/mgmt/tm/sys/crypto/key":
		if c.Method != http.MethodPost {
			return f5Error(405, "Method not allowed")
		}
		return f.install(st, path2kind(p), c.Body)
	case strings.HasPrefix(p, "/mgmt/tm/sys/crypto/cert/"), strings.HasPrefix(p, "/mgmt/tm/sys/crypto/key/"):
		kind := "cert"
		if strings.HasPrefix(p, "/mgmt/tm/sys/crypto/key/") {
			kind = "key"
		}
		return f.cryptoObject(st, kind, fullPath(p[strings.LastIndexByte(p, '/')+1:], ""), c.Method)
	case p == "/mgmt/tm/util/unix-rm" && c.Method == http.MethodPost:
		var req struct {
			Command, UtilCmdArgs string
		}
		if json.Unmarshal(c.Body, &req) != nil || req.Command != "run" {
			return f5Error(400, "Found invalid JSON body in the request.")
		}
		out := map[string]any{"kind": "tm:util:unix-rm:runstate", "command": "run", "utilCmdArgs": req.UtilCmdArgs}
		name, inDownloads := strings.CutPrefix(req.UtilCmdArgs, downloadsDir)
		if _, exists := f.files[name]; !inDownloads || !exists {
			out["commandResult"] = "/bin/rm: cannot remove '" + req.UtilCmdArgs + "': No such file or directory\n"
			return ok(out)
		}
		delete(f.files, name)
		return ok(out)
	case p == profilePath && c.Method == http.MethodPost:
		return f.createProfile(st, c.Body)
	case strings.HasPrefix(p, profilePath+"/"):
		return f.profile(st, fullPath(strings.TrimPrefix(p, profilePath+"/"), ""), c)
	case strings.HasPrefix(p, "/mgmt/tm/ltm/virtual/") && strings.HasSuffix(p, "/profiles"):
		return f.virtualProfiles(st, fullPath(strings.TrimSuffix(strings.TrimPrefix(p, "/mgmt/tm/ltm/virtual/"), "/profiles"), ""), c)
	}
	return f5Error(404, "Public URI path not registered: %s", strings.TrimPrefix(p, "/mgmt"))
}

func path2kind(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

var kindNames = map[string]string{"cert": "Certificate File", "key": "Certificate Key File"}

// install installs an uploaded file as a certificate or key object.
func (f *fakeBigIP) install(st *fakeState, kind string, body []byte) fakeReply {
	var req map[string]string
	if err := json.Unmarshal(body, &req); err != nil {
		return f5Error(400, "Found invalid JSON body in the request.")
	}
	for k := range req {
		if k != "command" && k != "name" && k != "from-local-file" && k != "partition" {
			return f5Error(400, "Found unexpected json pair at configuration item /sys/crypto/%s. The json pair is \"%s\":\"%s\".", kind, k, req[k])
		}
	}
	if req["command"] != "install" || req["name"] == "" || req["from-local-file"] == "" {
		return f5Error(400, "one or more configuration identifiers must be provided")
	}
	name := fullPath(req["name"], req["partition"])
	if !st.partitions[partitionOf(name)] {
		return f5Error(400, "01020036:3: The requested folder (/%s) was not found.", partitionOf(name))
	}
	if (kind == "cert" && st.certs[name] != nil) || (kind == "key" && st.keys[name] != nil) {
		return f5Error(409, "01020066:3: The requested %s (%s) already exists in partition %s.", kindNames[kind], name, partitionOf(name))
	}
	file, inDownloads := strings.CutPrefix(req["from-local-file"], downloadsDir)
	uploaded := f.files[file]
	if !inDownloads || uploaded == nil || len(uploaded.data) != uploaded.total {
		return f5Error(400, "01070712:3: Caught configuration exception (0), Unable to open file %s: No such file or directory.", req["from-local-file"])
	}
	switch kind {
	case "cert":
		var certs []*x509.Certificate
		rest := uploaded.data
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			cert, err := x509.ParseCertificate(block.Bytes)
			if block.Type != "CERTIFICATE" || err != nil {
				return f5Error(400, "01071003:3: A bad certificate was found in file %s.", req["from-local-file"])
			}
			certs = append(certs, cert)
		}
		if len(certs) == 0 {
			return f5Error(400, "01071003:3: A bad certificate was found in file %s.", req["from-local-file"])
		}
		st.certs[name] = &fakeCert{certs: certs, created: time.Now()}
	case "key":
		signer, err := parseKey(uploaded.data)
		if err != nil {
			return f5Error(400, "01070313:3: Error reading key PEM file %s for profile: %v", req["from-local-file"], err)
		}
		st.keys[name] = &fakeKey{signer: signer}
	}
	return ok(map[string]any{"kind": "tm:sys:crypto:" + kind + ":" + kind + "state", "command": "install",
		"name": req["name"], "from-local-file": req["from-local-file"]})
}

func parseKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("no PEM block")
	}
	var k any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("unexpected PEM block %q", block.Type)
	}
	if err != nil {
		return nil, err
	}
	s, isSigner := k.(crypto.Signer)
	if !isSigner {
		return nil, fmt.Errorf("not a signing key")
	}
	return s, nil
}

// cryptoObject serves GET and DELETE of one certificate or key object.
func (f *fakeBigIP) cryptoObject(st *fakeState, kind, name, method string) fakeReply {
	exists := (kind == "cert" && st.certs[name] != nil) || (kind == "key" && st.keys[name] != nil)
	if !exists {
		return f5Error(404, "01020036:3: The requested %s (%s) was not found.", kindNames[kind], name)
	}
	switch method {
	case http.MethodGet:
		base := map[string]any{"name": name[strings.LastIndexByte(name, '/')+1:], "partition": partitionOf(name), "fullPath": name,
			"generation": 1, "selfLink": "https://localhost/mgmt/tm/sys/crypto/" + kind + "/" + strings.ReplaceAll(name, "/", "~") + "?ver=17.1.0"}
		if kind == "key" {
			base["kind"] = "tm:sys:crypto:key:keystate"
			base["securityType"] = "normal"
			base["keyType"] = "ec-private"
			if _, isRSA := st.keys[name].signer.(*rsa.PrivateKey); isRSA {
				base["keyType"] = "rsa-private"
			}
			return ok(base)
		}
		c := st.certs[name]
		leaf := c.certs[0]
		sum := sha256.Sum256(leaf.Raw)
		base["kind"] = "tm:sys:crypto:cert:certstate"
		base["serialNumber"] = colonHex(leaf.SerialNumber.Bytes())
		base["subject"] = dn(leaf.Subject)
		base["issuer"] = dn(leaf.Issuer)
		base["fingerprint"] = "SHA256/" + strings.ToUpper(colonHex(sum[:]))
		base["expirationDate"] = leaf.NotAfter.Unix()
		base["expirationString"] = leaf.NotAfter.UTC().Format("Jan _2 15:04:05 2006 GMT")
		base["isBundle"] = strconv.FormatBool(len(c.certs) > 1)
		base["createTime"] = c.created.UTC().Format(time.RFC3339)
		base["version"] = 3
		if len(leaf.DNSNames) > 0 {
			var sans []string
			for _, n := range leaf.DNSNames {
				sans = append(sans, "DNS:"+n)
			}
			base["subjectAlternativeName"] = strings.Join(sans, ", ")
		}
		return ok(base)
	case http.MethodDelete:
		for pname, p := range st.profiles {
			for _, e := range p.chain {
				if e.Cert == name || e.Key == name || e.Chain == name {
					return f5Error(400, "01070621:3: %s (%s) is in use by ClientSSL Profile %s.", kindNames[kind], name, pname)
				}
			}
		}
		if kind == "cert" {
			delete(st.certs, name)
		} else {
			delete(st.keys, name)
		}
		return ok(nil)
	}
	return f5Error(405, "Method not allowed")
}

func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02x", x)
	}
	return strings.Join(parts, ":")
}

func dn(n pkix.Name) string {
	var parts []string
	if n.CommonName != "" {
		parts = append(parts, "CN="+n.CommonName)
	}
	for _, o := range n.Organization {
		parts = append(parts, "O="+o)
	}
	return strings.Join(parts, ",")
}

// profileFields are the client-SSL profile properties the fake accepts
// in a body; a BIG-IP refuses unknown ones.
var profileFields = []string{"name", "partition", "defaultsFrom", "certKeyChain", "description"}

// decodeProfileBody checks a profile body as a BIG-IP does.
func decodeProfileBody(body []byte) (map[string]json.RawMessage, []fakeChainEntry, *fakeReply) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		r := f5Error(400, "Found invalid JSON body in the request.")
		return nil, nil, &r
	}
	for k, v := range m {
		if !slices.Contains(profileFields, k) {
			r := f5Error(400, "Found unexpected json pair at configuration item /ltm/profile/client-ssl. The json pair is \"%s\":%s.", k, v)
			return nil, nil, &r
		}
	}
	var chain []fakeChainEntry
	if raw, has := m["certKeyChain"]; has {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&chain); err != nil {
			r := f5Error(400, "Found invalid JSON body in the request: certKeyChain: %v", err)
			return nil, nil, &r
		}
	}
	return m, chain, nil
}

// checkChain checks certKeyChain entries against the installed objects.
func checkChain(st *fakeState, profile string, chain []fakeChainEntry) *fakeReply {
	for _, e := range chain {
		if e.Name == "" || e.Cert == "" || e.Key == "" {
			r := f5Error(400, "010717e5:3: Client SSL profile (%s): a certKeyChain entry needs a name, cert and key.", profile)
			return &r
		}
		cert, key := st.certs[e.Cert], st.keys[e.Key]
		if cert == nil {
			r := f5Error(400, "01020036:3: The requested Certificate File (%s) was not found.", e.Cert)
			return &r
		}
		if key == nil {
			r := f5Error(400, "01020036:3: The requested Certificate Key File (%s) was not found.", e.Key)
			return &r
		}
		if e.Chain != "" && e.Chain != "none" && st.certs[e.Chain] == nil {
			r := f5Error(400, "01020036:3: The requested Certificate File (%s) was not found.", e.Chain)
			return &r
		}
		if !publicKeysEqual(cert.certs[0].PublicKey, key.signer.Public()) {
			r := f5Error(400, "01071ac5:3: Client SSL profile (%s): the key (%s) and certificate (%s) do not match.", profile, e.Key, e.Cert)
			return &r
		}
	}
	return nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ea, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ea.Equal(b)
}

func (f *fakeBigIP) createProfile(st *fakeState, body []byte) fakeReply {
	m, chain, bad := decodeProfileBody(body)
	if bad != nil {
		return *bad
	}
	var name, partition, parent string
	_ = json.Unmarshal(m["name"], &name)
	_ = json.Unmarshal(m["partition"], &partition)
	_ = json.Unmarshal(m["defaultsFrom"], &parent)
	if name == "" {
		return f5Error(400, "one or more configuration identifiers must be provided")
	}
	full := fullPath(name, partition)
	if !st.partitions[partitionOf(full)] {
		return f5Error(400, "01020036:3: The requested folder (/%s) was not found.", partitionOf(full))
	}
	if st.profiles[full] != nil {
		return f5Error(409, "01020066:3: The requested ClientSSL Profile (%s) already exists in partition %s.", full, partitionOf(full))
	}
	if parent == "" {
		parent = "/Common/clientssl"
	}
	parentProfile := st.profiles[fullPath(parent, "")]
	if parentProfile == nil {
		return f5Error(400, "01020036:3: The requested parent profile (%s) was not found.", parent)
	}
	if len(chain) == 0 {
		chain = slices.Clone(parentProfile.chain)
	}
	if bad := checkChain(st, full, chain); bad != nil {
		return *bad
	}
	st.profiles[full] = &fakeProfile{defaultsFrom: fullPath(parent, ""), chain: chain, generation: 1}
	return ok(profileBody(full, st.profiles[full]))
}

func (f *fakeBigIP) profile(st *fakeState, full string, c fakeCall) fakeReply {
	p := st.profiles[full]
	if p == nil {
		return f5Error(404, "01020036:3: The requested ClientSSL Profile (%s) was not found.", full)
	}
	switch c.Method {
	case http.MethodGet:
		return ok(profileBody(full, p))
	case http.MethodPatch:
		m, chain, bad := decodeProfileBody(c.Body)
		if bad != nil {
			return *bad
		}
		if _, has := m["name"]; has {
			return f5Error(400, "name cannot be changed")
		}
		if _, has := m["certKeyChain"]; has {
			if len(chain) == 0 {
				return f5Error(400, "010717e3:3: Client SSL profile must have RSA and/or DSA and/or ECDSA certificate/key pair.")
			}
			if bad := checkChain(st, full, chain); bad != nil {
				return *bad
			}
			// Copy on write: a transaction's copy of the state shares
			// profiles with the live state until it changes them.
			st.profiles[full] = &fakeProfile{defaultsFrom: p.defaultsFrom, chain: chain, generation: p.generation + 1}
		}
		return ok(profileBody(full, st.profiles[full]))
	}
	return f5Error(405, "Method not allowed")
}

func profileBody(full string, p *fakeProfile) map[string]any {
	chain := make([]map[string]any, len(p.chain))
	for i, e := range p.chain {
		ch := e.Chain
		if ch == "" {
			ch = "none"
		}
		chain[i] = map[string]any{"name": e.Name, "appService": "none", "cert": e.Cert, "key": e.Key, "chain": ch, "usage": "SERVER"}
	}
	b := map[string]any{"kind": "tm:ltm:profile:client-ssl:client-sslstate", "name": full[strings.LastIndexByte(full, '/')+1:],
		"partition": partitionOf(full), "fullPath": full, "generation": p.generation, "defaultsFrom": p.defaultsFrom,
		"certKeyChain": chain, "ciphers": "DEFAULT", "sniDefault": "false",
		"selfLink": "https://localhost/mgmt/tm/ltm/profile/client-ssl/" + strings.ReplaceAll(full, "/", "~") + "?ver=17.1.0"}
	if len(p.chain) > 0 {
		b["cert"], b["key"], b["chain"] = chain[0]["cert"], chain[0]["key"], chain[0]["chain"]
	}
	return b
}

func (f *fakeBigIP) virtualProfiles(st *fakeState, vs string, c fakeCall) fakeReply {
	attached, exists := st.virtuals[vs]
	if !exists {
		return f5Error(404, "01020036:3: The requested Virtual Server (%s) was not found.", vs)
	}
	switch c.Method {
	case http.MethodGet:
		items := []map[string]any{}
		for _, a := range attached {
			items = append(items, map[string]any{"kind": "tm:ltm:virtual:profiles:profilesstate",
				"name": a.fullPath[strings.LastIndexByte(a.fullPath, '/')+1:], "partition": partitionOf(a.fullPath),
				"fullPath": a.fullPath, "context": a.context})
		}
		return ok(map[string]any{"kind": "tm:ltm:virtual:profiles:profilescollectionstate", "items": items})
	case http.MethodPost:
		var req struct {
			Name, Context string
		}
		if json.Unmarshal(c.Body, &req) != nil || req.Name == "" {
			return f5Error(400, "Found invalid JSON body in the request.")
		}
		p := fullPath(req.Name, partitionOf(vs))
		if st.profiles[p] == nil && p != "/Common/http" && p != "/Common/tcp" {
			return f5Error(400, "01020036:3: The requested profile (%s) was not found.", p)
		}
		for _, a := range attached {
			if a.fullPath == p {
				return f5Error(409, "01020066:3: The requested profile (%s) already exists in virtual server (%s).", p, vs)
			}
		}
		if req.Context == "" {
			req.Context = "all"
		}
		st.virtuals[vs] = append(slices.Clone(attached), fakeAttached{p, req.Context})
		return ok(map[string]any{"kind": "tm:ltm:virtual:profiles:profilesstate", "name": req.Name, "fullPath": p, "context": req.Context})
	}
	return f5Error(405, "Method not allowed")
}

// clone copies the state one level deep: the objects are replaced, not
// changed, by the handlers.
func (s fakeState) clone() fakeState {
	c := fakeState{partitions: map[string]bool{}, certs: map[string]*fakeCert{}, keys: map[string]*fakeKey{},
		profiles: map[string]*fakeProfile{}, virtuals: map[string][]fakeAttached{}}
	for k, v := range s.partitions {
		c.partitions[k] = v
	}
	for k, v := range s.certs {
		c.certs[k] = v
	}
	for k, v := range s.keys {
		c.keys[k] = v
	}
	for k, v := range s.profiles {
		c.profiles[k] = v
	}
	for k, v := range s.virtuals {
		c.virtuals[k] = v
	}
	return c
}

// serveVirtual starts a TLS listener standing for virtual server vs: it
// presents the certificate and chain of the client-SSL profile attached
// to vs, as the fake's configuration has it at the time of each
// handshake. It returns the listener's host:port.
func (f *fakeBigIP) serveVirtual(vs string) string {
	f.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { ln.Close() })
	cfg := &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, a := range f.st.virtuals[vs] {
			p := f.st.profiles[a.fullPath]
			if p == nil || len(p.chain) == 0 {
				continue
			}
			e := p.chain[0]
			cert := &tls.Certificate{PrivateKey: f.st.keys[e.Key].signer}
			for _, c := range f.st.certs[e.Cert].certs {
				cert.Certificate = append(cert.Certificate, c.Raw)
			}
			if ch := f.st.certs[e.Chain]; ch != nil {
				for _, c := range ch.certs {
					cert.Certificate = append(cert.Certificate, c.Raw)
				}
			}
			return cert, nil
		}
		return nil, fmt.Errorf("no client-SSL profile on %s", vs)
	}}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				tc := tls.Server(conn, cfg)
				_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
				_ = tc.Handshake()
			}()
		}
	}()
	return ln.Addr().String()
}

// Views of the fake for tests.

func (f *fakeBigIP) callsSnapshot() []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// writes are the calls since call index from that change or try to
// change something: all but reads, logins and logouts.
func (f *fakeBigIP) writes(from int) []string {
	var out []string
	for _, c := range f.callsSnapshot()[from:] {
		if c.Method == http.MethodGet || c.Path == "/mgmt/shared/authn/login" ||
			strings.HasPrefix(c.Path, "/mgmt/shared/authz/tokens/") {
			continue
		}
		out = append(out, c.Method+" "+c.Path)
	}
	return out
}

// uploads counts the upload calls since call index from.
func (f *fakeBigIP) uploads(from int) int {
	n := 0
	for _, c := range f.callsSnapshot()[from:] {
		if strings.HasPrefix(c.Path, "/mgmt/shared/file-transfer/uploads/") {
			n++
		}
	}
	return n
}

// liveTokens are the tokens neither deleted nor expired.
func (f *fakeBigIP) liveTokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, t := range f.tokens {
		if !t.deleted && !t.expired {
			out = append(out, t.value)
		}
	}
	return out
}

func (f *fakeBigIP) allTokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for v := range f.tokens {
		out = append(out, v)
	}
	return out
}

// profileCert is the certificate the profile's first certKeyChain entry
// references, and its serial; "" when none.
func (f *fakeBigIP) profileCert(profile string) (string, *big.Int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.st.profiles[profile]
	if p == nil || len(p.chain) == 0 {
		return "", nil
	}
	c := f.st.certs[p.chain[0].Cert]
	if c == nil {
		return p.chain[0].Cert, nil
	}
	return p.chain[0].Cert, c.certs[0].SerialNumber
}

func (f *fakeBigIP) profileChain(profile string) []fakeChainEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p := f.st.profiles[profile]; p != nil {
		return slices.Clone(p.chain)
	}
	return nil
}

func (f *fakeBigIP) hasCert(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.certs[name] != nil
}

func (f *fakeBigIP) hasKey(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.keys[name] != nil
}

func (f *fakeBigIP) attached(vs string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, a := range f.st.virtuals[vs] {
		out = append(out, a.fullPath)
	}
	return out
}

// uploadedFiles are the files left under /var/config/rest/downloads.
func (f *fakeBigIP) uploadedFiles() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n := range f.files {
		out = append(out, n)
	}
	return out
}

func (f *fakeBigIP) transactions() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]string{}
	for id, tx := range f.txns {
		out[id] = tx.state
	}
	return out
}

func (f *fakeBigIP) violationsSnapshot() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.violations)
}

func (f *fakeBigIP) setFault(fn func(c fakeCall) *fakeReply) {
	f.mu.Lock()
	f.fault = fn
	f.mu.Unlock()
}

func (f *fakeBigIP) setFailCommit(msg string) {
	f.mu.Lock()
	f.failCommit = msg
	f.mu.Unlock()
}

func (f *fakeBigIP) setTokenMaxUses(n int) {
	f.mu.Lock()
	f.tokenMaxUses = n
	f.mu.Unlock()
}

func (f *fakeBigIP) addPartition(name string) {
	f.mu.Lock()
	f.st.partitions[name] = true
	f.mu.Unlock()
}

// selfSigned makes a self-signed certificate and its key.
func selfSigned(t testing.TB, cn string) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}
