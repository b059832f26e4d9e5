package client_test

import (
	"reflect"
	"testing"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// TestCertificateRequestFromEveryField: every field of a declaration is
// taken from the certificate, so a field added to both later cannot be
// dropped by read-modify-write updates (the CLI's among them) without
// this failing; and the copy shares no slice or map with the certificate.
func TestCertificateRequestFromEveryField(t *testing.T) {
	t.Parallel()
	var c api.Certificate
	cv := reflect.ValueOf(&c).Elem()
	rt := reflect.TypeFor[api.CertificateRequest]()
	for i := range rt.NumField() {
		name := rt.Field(i).Name
		f := cv.FieldByName(name)
		if !f.IsValid() {
			t.Fatalf("api.Certificate has no field %s that api.CertificateRequest has", name)
		}
		switch v := f.Addr().Interface().(type) {
		case *string:
			*v = "value-of-" + name
		case *[]string:
			*v = []string{"value-of-" + name}
		case **string:
			s := "value-of-" + name
			*v = &s
		case *map[string]string:
			*v = map[string]string{"key": "value-of-" + name}
		default:
			t.Fatalf("field %s is a %s: teach this test to fill it", name, f.Type())
		}
	}
	req := client.CertificateRequestFrom(c)
	rv := reflect.ValueOf(req)
	for i := range rt.NumField() {
		name := rt.Field(i).Name
		if got, want := rv.Field(i).Interface(), cv.FieldByName(name).Interface(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	req.SANs[0], req.TargetIDs[0], req.Labels["key"], *req.RenewalPolicyID = "x", "x", "x", "x"
	if c.SANs[0] == "x" || c.TargetIDs[0] == "x" || c.Labels["key"] == "x" || *c.RenewalPolicyID == "x" {
		t.Errorf("changing the request changed the certificate: %+v", c)
	}
}
