package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"

	"github.com/certctl/certctl/plugins/internal/retry"
	"github.com/certctl/certctl/sdk/plugin"
)

// The client is the standard library's net/smtp: it is complete for
// submission (EHLO, STARTTLS, AUTH, MAIL/RCPT/DATA), returns reply codes
// as *textproto.Error, and leaves TLS policy to us. go-smtp serves the
// tests.

// deliver makes one attempt to hand msg to the server, within cfg's
// timeout. Its errors are marked with retry.Again when another attempt
// may succeed: connection failures, timeouts and 4xx replies. 5xx
// replies, untrusted certificates and a missing STARTTLS are permanent.
func deliver(ctx context.Context, cfg config, msg []byte) error {
	actx, cancel := context.WithTimeout(ctx, cfg.delivery.Timeout)
	defer cancel()
	err := session(actx, cfg, msg)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var nerr net.Error
	if errors.Is(actx.Err(), context.DeadlineExceeded) || (errors.As(err, &nerr) && nerr.Timeout()) {
		return retry.Again(fmt.Errorf("%s: no answer within %s", cfg.addr(), cfg.delivery.Timeout))
	}
	return classify(cfg, err)
}

func (c config) addr() string { return net.JoinHostPort(c.host, c.port) }

func (c config) tlsConfig() *tls.Config {
	name := c.serverName
	if name == "" {
		name = c.host
	}
	return &tls.Config{ServerName: name, InsecureSkipVerify: c.insecureSkipVerify, MinVersion: tls.VersionTLS12}
}

// stepError says which step of the SMTP dialogue failed.
type stepError struct {
	step string
	err  error
}

func (e *stepError) Error() string { return e.step + ": " + e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

func step(name string, err error) error {
	if err == nil {
		return nil
	}
	return &stepError{step: name, err: err}
}

// heloName is the name the client gives in EHLO, as net/smtp does by
// default; servers that insist on a resolvable name are rare on submission
// ports.
const heloName = "localhost"

// session runs one SMTP dialogue. Closing the connection when ctx ends
// unblocks whatever read or write is under way.
func session(ctx context.Context, cfg config, msg []byte) error {
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", cfg.addr())
	if err != nil {
		return step("connect", err)
	}
	defer raw.Close()
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	if deadline, ok := ctx.Deadline(); ok {
		raw.SetDeadline(deadline)
	}

	conn := raw
	if cfg.tlsMode == tlsImplicit {
		tc := tls.Client(raw, cfg.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return step("TLS handshake", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, cfg.host)
	if err != nil {
		return step("greeting", err)
	}
	defer c.Close()
	if err := c.Hello(heloName); err != nil {
		return step("EHLO", err)
	}
	if cfg.tlsMode == tlsStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return plugin.Errorf(plugin.CodePermanent, "%s does not offer STARTTLS, which tls: starttls requires (use tls: tls for port 465)", cfg.addr())
		}
		if err := c.StartTLS(cfg.tlsConfig()); err != nil {
			return step("STARTTLS", err)
		}
	}
	if cfg.username != "" {
		ok, mechs := c.Extension("AUTH")
		if !ok || !hasMechanism(mechs, "PLAIN") {
			return plugin.Errorf(plugin.CodePermanent, "%s does not offer AUTH PLAIN", cfg.addr())
		}
		if err := c.Auth(plainAuth{username: cfg.username, password: cfg.password}); err != nil {
			return step("AUTH", err)
		}
	}
	if err := c.Mail(cfg.from.Address); err != nil {
		return step("MAIL FROM", err)
	}
	for _, rcpt := range addressList(cfg.to) {
		if err := c.Rcpt(rcpt); err != nil {
			return step("RCPT TO <"+rcpt+">", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return step("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return step("DATA", err)
	}
	if err := w.Close(); err != nil {
		return step("DATA", err)
	}
	// The message is accepted; a failing QUIT does not change that.
	_ = c.Quit()
	return nil
}

func hasMechanism(list, mech string) bool {
	for _, m := range strings.Fields(list) {
		if strings.EqualFold(m, mech) {
			return true
		}
	}
	return false
}

// classify decides whether a failed dialogue is worth another attempt.
func classify(cfg config, err error) error {
	var pe *plugin.Error
	if errors.As(err, &pe) {
		return err
	}
	msg := cfg.addr() + ": " + err.Error()
	var reply *textproto.Error
	if errors.As(err, &reply) {
		if reply.Code >= 400 && reply.Code < 500 {
			return retry.Again(errors.New(msg))
		}
		return plugin.Errorf(plugin.CodePermanent, "%s", msg)
	}
	var verifyErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var authorityErr x509.UnknownAuthorityError
	if errors.As(err, &verifyErr) || errors.As(err, &hostErr) || errors.As(err, &authorityErr) {
		return plugin.Errorf(plugin.CodePermanent, "%s (the server's TLS certificate is not trusted for this name; set server_name, or insecure_skip_verify for labs)", msg)
	}
	var recordErr tls.RecordHeaderError
	if errors.As(err, &recordErr) {
		return plugin.Errorf(plugin.CodePermanent, "%s (the server does not speak TLS here; check tls and port)", msg)
	}
	var authRefused *noTLSError
	if errors.As(err, &authRefused) {
		return plugin.Errorf(plugin.CodePermanent, "%s", msg)
	}
	return retry.Again(errors.New(msg))
}

// plainAuth is SMTP AUTH PLAIN (RFC 4616) that sends credentials over
// TLS only. (net/smtp's PlainAuth also sends them in clear to localhost.)
type plainAuth struct {
	username, password string
}

type noTLSError struct{}

func (*noTLSError) Error() string {
	return "refusing to send credentials over a connection without TLS"
}

func (a plainAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS {
		return "", nil, &noTLSError{}
	}
	return "PLAIN", []byte("\x00" + a.username + "\x00" + a.password), nil
}

func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected challenge after AUTH PLAIN")
	}
	return nil, nil
}
