package client_test

// The examples run against the real certctl-server that TestMain starts
// (see main_test.go), found through CERTCTL_URL and CERTCTL_API_KEY as a
// program of yours would find it. Each uses names of its own, since they
// share that server. Its built-in issuer "local" (a private CA the server
// creates at its first start) issues their certificates.

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// Example declares a certificate from the server's local CA, waits until it
// is issued, and lists the active certificates whose names start with
// "www-", page by page.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	c, err := client.New(os.Getenv("CERTCTL_URL"), client.WithAPIKey(os.Getenv("CERTCTL_API_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	iss, err := c.FindIssuer(ctx, "local")
	if err != nil {
		log.Fatal(err)
	}
	cert, err := c.CreateCertificate(ctx, api.CertificateRequest{
		Name:       "www-example-com",
		CommonName: "www.example.com",
		SANs:       []string{"www.example.com", "example.com"},
		IssuerID:   iss.ID,
		KeyType:    "ecdsa-p256",
	})
	var apiErr *client.Error
	switch {
	case client.IsConflict(err):
		log.Fatal("a certificate named www-example-com exists already")
	case errors.As(err, &apiErr):
		log.Fatalf("refused: %s (field %q, request %s)", apiErr.Message, apiErr.Field, apiErr.RequestID)
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println("declared", cert.Name)

	cert, err = c.WaitForCertificate(ctx, cert.ID, client.WaitOptions{Until: client.WaitIssued})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("status", cert.Status)

	for cert, err := range c.AllCertificates(ctx, client.CertificateListOptions{Status: "active", NamePrefix: "www-", Limit: 100}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("active:", cert.Name, cert.CommonName)
	}
	// Output:
	// declared www-example-com
	// status active
	// active: www-example-com www.example.com
}

// ExampleClient_WaitForCertificate renews a certificate and waits for the
// new version, printing each change of state as it happens (here to the
// log, whose lines vary with timing).
func ExampleClient_WaitForCertificate() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := client.New(os.Getenv("CERTCTL_URL"), client.WithAPIKey(os.Getenv("CERTCTL_API_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	iss, err := c.FindIssuer(ctx, "local")
	if err != nil {
		log.Fatal(err)
	}
	cert, err := c.CreateCertificate(ctx, api.CertificateRequest{Name: "wait-example", CommonName: "wait.example.com", IssuerID: iss.ID})
	if err != nil {
		log.Fatal(err)
	}
	progress := func(ev client.WaitEvent) { log.Printf("%s: %s", ev.Certificate.Name, ev.Message) }
	cert, err = c.WaitForCertificate(ctx, cert.ID, client.WaitOptions{Progress: progress})
	if err != nil {
		log.Fatal(err)
	}
	first := *cert.CurrentVersionID

	// Renew now, and wait for a version other than the first.
	if _, err := c.RenewCertificate(ctx, cert.ID); err != nil {
		log.Fatal(err)
	}
	cert, err = c.WaitForCertificate(ctx, cert.ID, client.WaitOptions{AfterVersionID: first, Progress: progress})
	var stuck *client.WaitError
	switch {
	case errors.As(err, &stuck):
		log.Fatalf("the renewal failed: %s", stuck.Reason)
	case errors.Is(err, context.DeadlineExceeded):
		log.Fatalf("still not renewed after 2 minutes; last state %s", cert.Status)
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println("renewed:", *cert.CurrentVersionID != first, cert.Status)
	// Output:
	// renewed: true active
}

// ExampleClient_GetBundle writes a certificate and the key the server holds
// for it as PEM files, the way NGINX or HAProxy load them: the key file is
// readable by its owner only.
func ExampleClient_GetBundle() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := client.New(os.Getenv("CERTCTL_URL"), client.WithAPIKey(os.Getenv("CERTCTL_API_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	cert, err := issueExample(ctx, c, "bundle-example", "bundle.example.com")
	if err != nil {
		log.Fatal(err)
	}

	// IncludeKey exports the key: admin only, audited, and only for a
	// certificate whose key the server made (key_mode "server").
	bundle, err := c.GetBundle(ctx, cert.ID, client.BundleOptions{IncludeKey: true})
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "bundle-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	files, err := bundle.WritePEMFiles(dir)
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(filepath.Base(f), st.Mode().Perm())
	}
	// Printing the bundle never shows the key.
	fmt.Println(bundle.PrivateKeyPEM != nil, len(fmt.Sprint(bundle)) < 200)
	// Output:
	// cert.pem -rw-r--r--
	// chain.pem -rw-r--r--
	// fullchain.pem -rw-r--r--
	// privkey.pem -rw-------
	// true true
}

// ExampleBundle_PKCS12 makes a PKCS#12 file protected by a password of your
// choosing (for Windows, Java, or a browser import), and reads it back.
func ExampleBundle_PKCS12() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := client.New(os.Getenv("CERTCTL_URL"), client.WithAPIKey(os.Getenv("CERTCTL_API_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	cert, err := issueExample(ctx, c, "p12-example", "p12.example.com")
	if err != nil {
		log.Fatal(err)
	}
	bundle, err := c.GetBundle(ctx, cert.ID, client.BundleOptions{IncludeKey: true})
	if err != nil {
		log.Fatal(err)
	}
	data, err := bundle.PKCS12("correct horse battery staple")
	if err != nil {
		log.Fatal(err)
	}
	// Anything that reads PKCS#12 opens it with the password.
	_, leaf, _, err := pkcs12.DecodeChain(data, "correct horse battery staple")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(leaf.Subject.CommonName)
	// Output:
	// p12.example.com
}

// ExampleClient_ValidateIssuer checks an issuer's configuration without
// creating anything, as the Terraform provider does at plan time: a typo is
// an error naming the field.
func ExampleClient_ValidateIssuer() {
	ctx := context.Background()
	c, err := client.New(os.Getenv("CERTCTL_URL"), client.WithAPIKey(os.Getenv("CERTCTL_API_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.ValidateIssuer(ctx, api.IssuerRequest{Name: "team-ca", Type: "local",
		Config: map[string]any{"ca_key_typ": "ecdsa-p256"}})
	if e, ok := client.AsError(err); ok && client.IsInvalid(err) {
		fmt.Println("invalid:", e.Field)
	}

	v, err := c.ValidateIssuer(ctx, api.IssuerRequest{Name: "team-ca", Type: "local",
		Config: map[string]any{"ca_key_type": "ecdsa-p256", "validity": "30d"}})
	if err != nil {
		log.Fatal(err)
	}
	// The configuration as the server would store it, defaults filled in.
	fmt.Println(v.Config["ca_key_type"], v.Config["validity"], v.Config["max_validity"])
	if _, err := c.FindIssuer(ctx, "team-ca"); client.IsNotFound(err) {
		fmt.Println("nothing was created")
	}
	// Output:
	// invalid: config.ca_key_typ
	// ecdsa-p256 30d 397d
	// nothing was created
}

// ExampleClient_FindCertificate looks a certificate up by its name, and
// tells a missing one from a failure.
func ExampleClient_FindCertificate() {
	ctx := context.Background()
	c, err := client.New(os.Getenv("CERTCTL_URL"), client.WithAPIKey(os.Getenv("CERTCTL_API_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	iss, err := c.FindIssuer(ctx, "local")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.CreateCertificate(ctx, api.CertificateRequest{Name: "find-example", CommonName: "find.example.com", IssuerID: iss.ID}); err != nil {
		log.Fatal(err)
	}
	cert, err := c.FindCertificate(ctx, "find-example")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cert.Name, cert.CommonName, cert.KeyMode)

	_, err = c.FindCertificate(ctx, "no-such-certificate")
	fmt.Println(client.IsNotFound(err))
	// Output:
	// find-example find.example.com server
	// true
}

// ExampleClient_ExportPrivateKey saves the server's own PKCS#12 export of a
// server-held key and shows that its generated password opens it.
func ExampleClient_ExportPrivateKey() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := client.New(os.Getenv("CERTCTL_URL"), client.WithAPIKey(os.Getenv("CERTCTL_API_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	cert, err := issueExample(ctx, c, "export-example", "export.example.com")
	if err != nil {
		log.Fatal(err)
	}
	key, err := c.ExportPrivateKey(ctx, cert.ID, *cert.CurrentVersionID, client.KeyFormatPKCS12)
	if err != nil {
		log.Fatal(err)
	}
	_, leaf, _, err := pkcs12.DecodeChain(key.Data, key.Password)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(key.Format, leaf.Subject.CommonName)
	// Output:
	// pkcs12 export.example.com
}

// ExampleAll walks any list with the generic iterator: here every job of a
// certificate, however many pages they take.
func ExampleAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := client.New(os.Getenv("CERTCTL_URL"), client.WithAPIKey(os.Getenv("CERTCTL_API_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	cert, err := issueExample(ctx, c, "jobs-example", "jobs.example.com")
	if err != nil {
		log.Fatal(err)
	}
	jobs := client.All(ctx, func(cursor string) (api.List[api.Job], error) {
		return c.ListJobs(ctx, client.JobListOptions{CertificateID: cert.ID, Limit: 1, Cursor: cursor})
	})
	for job, err := range jobs {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(job.Kind, job.State)
	}
	// Output:
	// issue succeeded
}

// ExampleIsNotFound tells the API's errors apart by their codes.
func ExampleIsNotFound() {
	ctx := context.Background()
	c, err := client.New(os.Getenv("CERTCTL_URL"), client.WithAPIKey(os.Getenv("CERTCTL_API_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.GetCertificate(ctx, "0190d0a0-0000-7000-8000-000000000000")
	fmt.Println(client.IsNotFound(err), client.Code(err))

	// A request the server refuses names the field at fault.
	_, err = c.CreateCertificate(ctx, api.CertificateRequest{Name: "bad", CommonName: "bad.example.com"})
	if e, ok := client.AsError(err); ok {
		fmt.Println(e.StatusCode, e.Code, e.Field)
	}
	// Output:
	// true not_found
	// 400 invalid issuer_id
}

// issueExample declares a certificate from the local CA and waits until it
// is issued.
func issueExample(ctx context.Context, c *client.Client, name, commonName string) (*api.Certificate, error) {
	iss, err := c.FindIssuer(ctx, "local")
	if err != nil {
		return nil, err
	}
	cert, err := c.CreateCertificate(ctx, api.CertificateRequest{Name: name, CommonName: commonName, IssuerID: iss.ID})
	if err != nil {
		return nil, err
	}
	return c.WaitForCertificate(ctx, cert.ID, client.WaitOptions{})
}
