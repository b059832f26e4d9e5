package tlsprobe

import (
	"context"
	"crypto/tls"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/certctl/certctl/plugins/target/internal/servertest"
)

func TestParseSerial(t *testing.T) {
	want, _ := new(big.Int).SetString("1a2b3c", 16)
	for _, s := range []string{"1a2b3c", "1A2B3C", "001a2b3c", "1a:2b:3c", "0x1a2b3c", " 1A:2B:3C "} {
		if got, err := ParseSerial(s); err != nil || got.Cmp(want) != 0 {
			t.Errorf("ParseSerial(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "xyz", "-1a", "0x"} {
		if _, err := ParseSerial(s); err == nil {
			t.Errorf("ParseSerial(%q) succeeded", s)
		}
	}
	if got := FormatSerial(want); got != "1a2b3c" {
		t.Errorf("FormatSerial = %q", got)
	}
}

func TestLeaf(t *testing.T) {
	l := servertest.NewCA(t, "probe CA").Issue(t, "www.example.com")
	pair, err := tls.X509KeyPair([]byte(l.CertPEM), []byte(l.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var sni string
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		mu.Lock()
		sni = h.ServerName
		mu.Unlock()
		return &pair, nil
	}}
	srv.StartTLS()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	leaf, err := Leaf(ctx, srv.Listener.Addr().String(), "www.example.com")
	if err != nil || leaf.SerialNumber.Cmp(l.Serial) != 0 {
		t.Fatalf("Leaf = %v, %v", leaf, err)
	}
	mu.Lock()
	if sni != "www.example.com" {
		t.Errorf("SNI sent %q", sni)
	}
	mu.Unlock()

	// A port nobody listens on is a connect error.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var pe *Error
	if _, err := Leaf(ctx, addr, ""); !errors.As(err, &pe) || pe.Stage != "connect" {
		t.Errorf("Leaf of a closed port: %v", err)
	}

	// A server that does not speak TLS is a handshake error.
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	if _, err := Leaf(ctx, plain.Listener.Addr().String(), ""); !errors.As(err, &pe) || pe.Stage != "handshake" {
		t.Errorf("Leaf of a plain HTTP server: %v", err)
	}
}
