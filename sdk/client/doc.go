// Package client is the Go client of certctl's REST API (/api/v1): the SDK
// that the agent, the certctl CLI and the Terraform provider are built on,
// and that any Go program may use to drive a certctl server.
//
// # Calls
//
// New returns a Client for a server's base URL. Every route of the API has a
// typed method that takes a context.Context and speaks the wire types of
// package github.com/certctl/certctl/sdk/api:
//
//	c, err := client.New("https://certctl.example.com", client.WithAPIKey(os.Getenv("CERTCTL_API_KEY")))
//	iss, err := c.CreateIssuer(ctx, api.IssuerRequest{Name: "internal-ca", Type: "local"})
//	cert, err := c.CreateCertificate(ctx, api.CertificateRequest{Name: "www", CommonName: "www.example.com", IssuerID: iss.ID})
//
// Methods are named <Verb><Resource>: ListCertificates, GetCertificate,
// CreateCertificate, UpdateCertificate, DeleteCertificate, RenewCertificate,
// and so on. CRL, Health and Ready reach the routes outside /api/v1, which
// need no API key.
//
// # Lists
//
// List methods take an options struct with the route's filters, Limit (the
// page size, 1-500; 0 means the server's default of 50) and Cursor (empty for
// the first page), and return one page as an api.List. To walk every page,
// use the All<Resource> methods or the generic All, which return Go
// iterators:
//
//	for cert, err := range c.AllCertificates(ctx, client.CertificateListOptions{Status: "active"}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(cert.Name)
//	}
//
// # Errors
//
// A reply with a status other than 2xx is returned as *Error, carrying the
// HTTP status and the API's error code, message, offending field and request
// ID. IsNotFound, IsConflict, IsInvalid, IsUnauthorized, IsForbidden and
// IsUnavailable test for the common codes, and Code returns the code of any
// error. Transport failures and context cancellation are returned as they
// are (wrapped), so errors.Is(err, context.Canceled) works.
//
// # Retries
//
// A call is retried, with exponential backoff and jitter (see WithRetry), when
// retrying cannot do work twice:
//
//   - GET, HEAD, PUT and DELETE (idempotent) on a network error and on 502,
//     503 and 504;
//   - any method, POST included, on 429 (the server refused the request
//     before doing anything) and on a connection that could not be made (the
//     request never reached the server).
//
// A POST answered 503 is not retried: the server may have done part of the
// work (a test notification sent, for instance). When a reply says
// Retry-After, the client waits that long, capped by the maximum delay. It
// stops as soon as the context ends. Request bodies are kept as bytes and sent
// again whole on every attempt.
//
// # Helpers for common flows
//
// WaitForCertificate waits until a certificate is issued or deployed,
// bounded by its context, reporting every change to a progress callback
// and stopping with a *WaitError when the certificate cannot get there.
// GetBundle returns a version with its chain (and its key, when the server
// holds it and the caller is an admin), which Bundle writes as PEM files
// (atomically, the key 0600) or as a PKCS#12 file with a password of the
// caller's choosing. ValidateIssuer, ValidateTarget and ValidateNotifier
// check a connector declaration the way creating it would, creating
// nothing. FindCertificate, FindIssuer and the other Find methods look a
// resource up by its name. docs/sdk.md walks through them all, and the
// package's examples run each against a real server in its tests.
//
// # Request IDs
//
// WithRequestID attaches an X-Request-ID to a context; every request made
// with it carries that ID, so that the server's log and audit trail can be
// matched with the caller's. The ID the server used is in Error.RequestID.
//
// # Secrets
//
// The API key is sent only in the Authorization header and is never logged.
// The logger set by WithLogger receives one debug record per attempt
// (method, path, status, duration, request ID) and never sees request or
// reply bodies, so private keys and PKCS#12 passwords do not reach it.
package client
