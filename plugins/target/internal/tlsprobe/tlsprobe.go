// Package tlsprobe asks a TLS server which certificate it serves. A
// deployment is checked by the serial number of what is served, not by
// trust: the probe verifies no chain, so that it works with private CAs
// and with certificates that are not yet trusted anywhere.
package tlsprobe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
)

// Error is a probe that failed: the server could not be reached, or did
// not complete a TLS handshake.
type Error struct {
	Addr  string
	Stage string // "connect" or "handshake"
	Err   error
}

func (e *Error) Error() string { return fmt.Sprintf("%s to %s: %v", e.Stage, e.Addr, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// Leaf connects to addr (host:port), completes a TLS handshake sending
// serverName as SNI when it is not empty, and returns the certificate the
// server presented.
func Leaf(ctx context.Context, addr, serverName string) (*x509.Certificate, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &Error{Addr: addr, Stage: "connect", Err: err}
	}
	defer conn.Close()
	tc := tls.Client(conn, &tls.Config{
		ServerName: serverName,
		// Only the served certificate's serial is compared; nothing read
		// over this connection is trusted.
		InsecureSkipVerify: true, //nolint:gosec // the serial is compared, trust is not needed
		MinVersion:         tls.VersionTLS10,
	})
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, &Error{Addr: addr, Stage: "handshake", Err: err}
	}
	certs := tc.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil, &Error{Addr: addr, Stage: "handshake", Err: errors.New("the server sent no certificate")}
	}
	return certs[0], nil
}

// ParseSerial reads a hexadecimal serial number, as certctl writes them
// ("1a2b") or as tools print them ("1A:2B", "0x1a2b"); case and leading
// zeros do not matter.
func ParseSerial(s string) (*big.Int, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(strings.TrimPrefix(t, "0x"), "0X")
	t = strings.NewReplacer(":", "", " ", "").Replace(t)
	n, ok := new(big.Int).SetString(t, 16)
	if t == "" || !ok || n.Sign() < 0 {
		return nil, fmt.Errorf("serial number %q is not hexadecimal", s)
	}
	return n, nil
}

// FormatSerial writes a serial number as certctl does: lower-case
// hexadecimal without leading zeros.
func FormatSerial(n *big.Int) string { return n.Text(16) }
