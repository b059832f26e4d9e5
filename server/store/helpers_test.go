package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/db"
	"github.com/certctl/certctl/server/store"
)

// newStore is a store on a fresh migrated database of the test's own.
func newStore(t *testing.T) *store.Store {
	t.Helper()
	pool, err := db.Open(context.Background(), apitest.NewDatabase(t), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return store.New(pool)
}

// newID is a time-ordered id, as the service makes them: pages are in id
// order.
func newID(t *testing.T) uuid.UUID {
	t.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// at is a fixed time in the database's precision (microseconds, UTC).
func at(minute int) time.Time {
	return time.Date(2026, 12, 1, 10, minute, 0, 0, time.UTC)
}

// wantCode fails t unless err is a core error with code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	var ce *core.Error
	if !errors.As(err, &ce) || ce.Code != code {
		t.Errorf("%s: %v, want a %s error", what, err, code)
	}
}

// createIssuer inserts an issuer called name.
func createIssuer(t *testing.T, q *store.Queries, name string) core.Issuer {
	t.Helper()
	i := core.Issuer{ID: newID(t), Name: name, Type: "local", Config: map[string]any{"common_name": name},
		CreatedAt: at(0), UpdatedAt: at(0)}
	if err := q.CreateIssuer(context.Background(), i); err != nil {
		t.Fatal(err)
	}
	return i
}

// createCertificate inserts a managed certificate of issuer iss.
func createCertificate(t *testing.T, q *store.Queries, name string, iss uuid.UUID) core.Certificate {
	t.Helper()
	c := core.Certificate{ID: newID(t), Name: name, CommonName: name + ".example.com", SANs: []string{name + ".example.com"},
		IssuerID: iss, KeyType: "ecdsa-p256", KeyMode: core.KeyModeServer, Status: core.CertPending,
		Labels: map[string]string{}, CreatedAt: at(0), UpdatedAt: at(0)}
	if err := q.CreateCertificate(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// createVersion inserts an active version of c with serial, valid until
// notAfter.
func createVersion(t *testing.T, q *store.Queries, c core.Certificate, serial string, notAfter time.Time) core.CertificateVersion {
	t.Helper()
	v := core.CertificateVersion{ID: newID(t), CertificateID: c.ID, SerialNumber: serial, FingerprintSHA256: "fp-" + serial,
		Subject: "CN=" + c.CommonName, SANs: c.SANs, NotBefore: at(0), NotAfter: notAfter, CertificatePEM: "PEM " + serial,
		IssuerID: &c.IssuerID, Status: core.VersionActive, CreatedAt: at(0)}
	if err := q.CreateVersion(context.Background(), v, "", nil); err != nil {
		t.Fatal(err)
	}
	return v
}

// createAgent inserts a pending agent called name.
func createAgent(t *testing.T, q *store.Queries, name, os string) core.Agent {
	t.Helper()
	a := core.Agent{ID: newID(t), Name: name, Status: core.AgentPending, Labels: map[string]string{"zone": "dmz"}, OS: os,
		Arch: "amd64", Hostname: name + ".internal", AgentVersion: "1.0.0", EnrolledAt: at(0), CreatedAt: at(0), UpdatedAt: at(0)}
	if err := q.CreateAgent(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a
}
