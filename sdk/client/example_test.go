package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// Example declares a local CA and a certificate it issues, then lists every
// active certificate, page by page. (It needs a running server, so it is
// compiled but not run.)
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	c, err := client.New(os.Getenv("CERTCTL_URL"), client.WithAPIKey(os.Getenv("CERTCTL_API_KEY")))
	if err != nil {
		log.Fatal(err)
	}

	iss, err := c.CreateIssuer(ctx, api.IssuerRequest{
		Name:   "internal-ca",
		Type:   "local",
		Config: map[string]any{"common_name": "Example Internal CA", "validity": "30d"},
	})
	var apiErr *client.Error
	switch {
	case client.IsConflict(err):
		log.Fatal("an issuer named internal-ca exists already")
	case errors.As(err, &apiErr):
		log.Fatalf("refused: %s (field %q, request %s)", apiErr.Message, apiErr.Field, apiErr.RequestID)
	case err != nil:
		log.Fatal(err)
	}

	cert, err := c.CreateCertificate(ctx, api.CertificateRequest{
		Name:       "www-example-com",
		CommonName: "www.example.com",
		SANs:       []string{"www.example.com", "example.com"},
		IssuerID:   iss.ID,
		KeyType:    "ecdsa-p256",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("declared", cert.Name, "status", cert.Status) // issuing

	for cert, err := range c.AllCertificates(ctx, client.CertificateListOptions{Status: "active", Limit: 100}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(cert.Name, cert.NotAfter)
	}
}

// ExampleClient_ExportPrivateKey saves the PKCS#12 file of a server-held
// key and prints the password that opens it.
func ExampleClient_ExportPrivateKey() {
	ctx := context.Background()
	c, err := client.New("https://certctl.example.com", client.WithAPIKey(os.Getenv("CERTCTL_API_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	cert, err := c.GetCertificate(ctx, os.Getenv("CERT_ID"))
	if err != nil {
		log.Fatal(err)
	}
	if cert.CurrentVersionID == nil {
		log.Fatal("not issued yet")
	}
	key, err := c.ExportPrivateKey(ctx, cert.ID, *cert.CurrentVersionID, client.KeyFormatPKCS12)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(cert.Name+".p12", key.Data, 0o600); err != nil {
		log.Fatal(err)
	}
	fmt.Println("password:", key.Password)
}

// ExampleAll walks any list with the generic iterator.
func ExampleAll() {
	ctx := context.Background()
	c, err := client.New("https://certctl.example.com", client.WithAPIKey(os.Getenv("CERTCTL_API_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	failed := client.All(ctx, func(cursor string) (api.List[api.Job], error) {
		return c.ListJobs(ctx, client.JobListOptions{State: "failed", Limit: 500, Cursor: cursor})
	})
	for job, err := range failed {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(job.ID, job.Kind, job.LastError)
	}
}
