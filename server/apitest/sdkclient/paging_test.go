package sdkclient_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// countingTransport counts the list requests for certificates.
type countingTransport struct {
	lists atomic.Int32
}

func (ct *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && r.URL.Path == "/api/v1/certificates" {
		ct.lists.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestPaging(t *testing.T) {
	t.Parallel()
	env, c := start(t)
	ctx := context.Background()
	iss := must(c.CreateIssuer(ctx, api.IssuerRequest{Name: "ca", Type: "local"}))(t)

	const total = 120
	var wg sync.WaitGroup
	errs := make(chan error, total)
	sem := make(chan struct{}, 8)
	for i := range total {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			_, err := c.CreateCertificate(ctx, api.CertificateRequest{Name: fmt.Sprintf("page-%03d", i),
				CommonName: fmt.Sprintf("host-%03d.example.com", i), IssuerID: iss.ID})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// One more that the filter leaves out.
	must(c.CreateCertificate(ctx, api.CertificateRequest{Name: "other", CommonName: "other.example.com", IssuerID: iss.ID}))(t)

	ct := &countingTransport{}
	pc := must(client.New(env.URL, client.WithAPIKey(env.AdminKey), client.WithHTTPClient(&http.Client{Transport: ct})))(t)

	// The iterator walks every page: 50 + 50 + 20, in order, once each.
	seen := map[string]bool{}
	var names []string
	for cert, err := range pc.AllCertificates(ctx, client.CertificateListOptions{NamePrefix: "page-", Limit: 50}) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[cert.ID] {
			t.Fatalf("certificate %s twice", cert.Name)
		}
		seen[cert.ID] = true
		names = append(names, cert.Name)
	}
	if len(names) != total || ct.lists.Load() != 3 {
		t.Fatalf("iterated over %d certificates in %d requests, want %d in 3", len(names), ct.lists.Load(), total)
	}
	for i, n := range names {
		if !strings.HasPrefix(n, "page-") {
			t.Errorf("item %d is %s, which the filter excludes", i, n)
		}
	}

	// Pages by hand: the cursor of one page continues at the next.
	first := must(pc.ListCertificates(ctx, client.CertificateListOptions{NamePrefix: "page-", Limit: 50}))(t)
	if len(first.Items) != 50 || first.NextCursor == nil {
		t.Fatalf("first page: %d items, next %v", len(first.Items), first.NextCursor)
	}
	second := must(pc.ListCertificates(ctx, client.CertificateListOptions{NamePrefix: "page-", Limit: 50, Cursor: *first.NextCursor}))(t)
	if len(second.Items) != 50 || second.Items[0].Name != names[50] {
		t.Errorf("second page starts at %s, want %s", second.Items[0].Name, names[50])
	}
	// An iterator started at a cursor resumes there.
	rest := must(client.Collect(pc.AllCertificates(ctx, client.CertificateListOptions{NamePrefix: "page-", Limit: 50, Cursor: *first.NextCursor})))(t)
	if len(rest) != total-50 || rest[0].Name != names[50] {
		t.Errorf("resumed iteration: %d items from %s", len(rest), rest[0].Name)
	}

	// Breaking out of the loop fetches no further page.
	ct.lists.Store(0)
	n := 0
	for _, err := range pc.AllCertificates(ctx, client.CertificateListOptions{Limit: 50}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 10 {
			break
		}
	}
	if ct.lists.Load() != 1 {
		t.Errorf("stopping after 10 items made %d requests, want 1", ct.lists.Load())
	}

	// The generic All over any list.
	count := 0
	for _, err := range client.All(ctx, func(cursor string) (api.List[api.Certificate], error) {
		return pc.ListCertificates(ctx, client.CertificateListOptions{Limit: 500, Cursor: cursor})
	}) {
		if err != nil {
			t.Fatal(err)
		}
		count++
	}
	if count != total+1 {
		t.Errorf("All counted %d certificates, want %d", count, total+1)
	}

	// An error stops the iteration and is yielded once.
	var errs2 []error
	for _, err := range pc.AllCertificates(ctx, client.CertificateListOptions{Limit: 501}) {
		errs2 = append(errs2, err)
	}
	if len(errs2) != 1 || !client.IsInvalid(errs2[0]) {
		t.Errorf("iteration with a bad limit yielded %v", errs2)
	}
	if e, ok := client.AsError(errs2[0]); !ok || e.Field != "limit" {
		t.Errorf("bad limit error = %#v", errs2[0])
	}

	// A cancelled context ends the iteration.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	for _, err := range pc.AllCertificates(cctx, client.CertificateListOptions{}) {
		if err == nil {
			t.Fatal("an item after the context ended")
		}
		break
	}
}
