package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/certctl/certctl/sdk/api"
)

// openAPIMethods are the operation keys of an OpenAPI path item.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// apiDoc is the part of the OpenAPI document these tests read, kept as
// generic JSON so that nothing the document says is lost in decoding.
type apiDoc struct {
	raw   map[string]any
	paths map[string]map[string]any
}

func loadOpenAPIDoc(t *testing.T) apiDoc {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal(openAPIDocument, &raw); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	d := apiDoc{raw: raw, paths: map[string]map[string]any{}}
	paths, ok := raw["paths"].(map[string]any)
	if !ok {
		t.Fatalf("openapi.json has no paths object")
	}
	for p, item := range paths {
		m, ok := item.(map[string]any)
		if !ok {
			t.Fatalf("path %s is not an object", p)
		}
		d.paths[p] = m
	}
	return d
}

// operations calls f for every operation of the document, in a stable order.
func (d apiDoc) operations(f func(path, method string, item, op map[string]any)) {
	paths := make([]string, 0, len(d.paths))
	for p := range d.paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		item := d.paths[p]
		for _, m := range openAPIMethods {
			if op, ok := item[m].(map[string]any); ok {
				f(p, m, item, op)
			}
		}
	}
}

// resolve follows a local JSON reference ("#/components/...").
func (d apiDoc) resolve(ref string) (any, error) {
	pointer, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("%q is not a local reference", ref)
	}
	var cur any = d.raw
	for _, tok := range strings.Split(pointer, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%q: %q is not inside an object", ref, tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("%q: no %q", ref, tok)
		}
	}
	return cur, nil
}

// deref returns v itself, or what its $ref points to.
func (d apiDoc) deref(v any) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%v is not an object", v)
	}
	if ref, ok := m["$ref"].(string); ok {
		target, err := d.resolve(ref)
		if err != nil {
			return nil, err
		}
		return d.deref(target)
	}
	return m, nil
}

// routerOperations returns "METHOD /template" for every route registered,
// leaving out HEAD (served alongside GET) and routes without methods (the
// /api/v1 subrouter itself).
func routerOperations(t *testing.T, r *mux.Router) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		methods, err := route.GetMethods()
		if err != nil {
			return nil
		}
		for _, m := range methods {
			if m != http.MethodHead {
				out[m+" "+tpl] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk routes: %v", err)
	}
	return out
}

func newOpenAPITestServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(Options{Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIMatchesRoutes keeps the document and the router in step: every
// route is documented and every documented operation is routed.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	d := loadOpenAPIDoc(t)
	routed := routerOperations(t, newOpenAPITestServer(t).Router())
	if len(routed) == 0 {
		t.Fatal("the router has no routes")
	}
	documented := map[string]bool{}
	d.operations(func(path, method string, _, _ map[string]any) {
		if m := strings.ToUpper(method); m != http.MethodHead {
			documented[m+" "+path] = true
		}
	})
	var undocumented, unrouted []string
	for _, k := range sortedKeys(routed) {
		if !documented[k] {
			undocumented = append(undocumented, k)
		}
	}
	for _, k := range sortedKeys(documented) {
		if !routed[k] {
			unrouted = append(unrouted, k)
		}
	}
	if len(undocumented) > 0 {
		t.Errorf("routes missing from openapi.json (%d):\n  %s", len(undocumented), strings.Join(undocumented, "\n  "))
	}
	if len(unrouted) > 0 {
		t.Errorf("operations in openapi.json that no route serves (%d):\n  %s", len(unrouted), strings.Join(unrouted, "\n  "))
	}
	for _, must := range []string{"GET /healthz", "GET /readyz", "GET /metrics", "GET /api/v1/openapi.json"} {
		if !routed[must] {
			t.Errorf("the router does not register %s", must)
		}
	}
}

// TestOpenAPIDocumentIsValid checks the document against the OpenAPI
// specification with kin-openapi, which also resolves every reference.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	d := loadOpenAPIDoc(t)
	version, _ := d.raw["openapi"].(string)
	if !strings.HasPrefix(version, "3.") {
		t.Fatalf("openapi = %q, want 3.x", version)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPIDocument)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
}

func TestOpenAPIOperationIDsAreUnique(t *testing.T) {
	d := loadOpenAPIDoc(t)
	seen := map[string]string{}
	d.operations(func(path, method string, _, op map[string]any) {
		where := strings.ToUpper(method) + " " + path
		id, _ := op["operationId"].(string)
		if id == "" {
			t.Errorf("%s has no operationId", where)
			return
		}
		if prev, dup := seen[id]; dup {
			t.Errorf("operationId %q is used by both %s and %s", id, prev, where)
		}
		seen[id] = where
		if s, _ := op["summary"].(string); s == "" {
			t.Errorf("%s has no summary", where)
		}
		if tags, _ := op["tags"].([]any); len(tags) == 0 {
			t.Errorf("%s has no tags", where)
		}
	})
}

func TestOpenAPIReferencesResolve(t *testing.T) {
	d := loadOpenAPIDoc(t)
	n := 0
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				n++
				if _, err := d.resolve(ref); err != nil {
					t.Errorf("at %s: unresolved $ref: %v", at, err)
				}
			}
			for k, e := range v {
				walk(at+"/"+k, e)
			}
		case []any:
			for i, e := range v {
				walk(fmt.Sprintf("%s/%d", at, i), e)
			}
		}
	}
	walk("#", d.raw)
	if n == 0 {
		t.Error("the document has no $ref at all; the test would prove nothing")
	}
}

var pathVariable = regexp.MustCompile(`\{([^}]+)\}`)

// TestOpenAPIPathParametersDeclared checks that every {variable} of a path
// template is declared as a required path parameter of each operation (on
// the operation or on its path item), and that no other is.
func TestOpenAPIPathParametersDeclared(t *testing.T) {
	d := loadOpenAPIDoc(t)
	d.operations(func(path, method string, item, op map[string]any) {
		where := strings.ToUpper(method) + " " + path
		declared := map[string]bool{}
		for _, list := range []any{item["parameters"], op["parameters"]} {
			params, _ := list.([]any)
			for _, p := range params {
				param, err := d.deref(p)
				if err != nil {
					t.Errorf("%s: parameter: %v", where, err)
					continue
				}
				if param["in"] != "path" {
					continue
				}
				name, _ := param["name"].(string)
				if req, _ := param["required"].(bool); !req {
					t.Errorf("%s: path parameter %q is not required", where, name)
				}
				declared[name] = true
			}
		}
		var want []string
		for _, m := range pathVariable.FindAllStringSubmatch(path, -1) {
			want = append(want, m[1])
			if !declared[m[1]] {
				t.Errorf("%s: path parameter {%s} is not declared", where, m[1])
			}
		}
		for name := range declared {
			if !slices.Contains(want, name) {
				t.Errorf("%s: declares path parameter %q that is not in the template", where, name)
			}
		}
	})
}

// agentEnrollPath authenticates with the enrollment token in its body.
const agentEnrollPath = "/api/v1/agent/enroll"

// openAPIPath is the one public /api/v1 route: the API's description.
const openAPIPath = "/api/v1/openapi.json"

// securitySchemes returns the names of the schemes a security requirement
// list names.
func securitySchemes(sec []any) []string {
	var out []string
	for _, req := range sec {
		m, _ := req.(map[string]any)
		for name := range m {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// TestOpenAPISecurityAndErrors checks authentication and error replies:
// /api/v1 needs a key and documents 401, except the agent API, whose routes
// need the agent's own credential (and document 401 and 403) and whose
// enrollment authenticates with the token in its body, and the public
// OpenAPI document; the operational endpoints are open.
func TestOpenAPISecurityAndErrors(t *testing.T) {
	d := loadOpenAPIDoc(t)
	global, _ := d.raw["security"].([]any)
	if len(global) == 0 {
		t.Error("the document has no global security requirement")
	}
	if slices.Contains(securitySchemes(global), "agentCredential") {
		t.Error("the global security requirement accepts agent credentials; only the agent API does")
	}
	if scheme, err := d.deref(map[string]any{"$ref": "#/components/securitySchemes/agentCredential"}); err != nil {
		t.Errorf("no agentCredential security scheme: %v", err)
	} else if scheme["type"] != "http" || scheme["scheme"] != "bearer" {
		t.Errorf("agentCredential is %v/%v, want http/bearer", scheme["type"], scheme["scheme"])
	}
	if _, err := d.resolve("#/components/schemas/Error"); err != nil {
		t.Fatalf("no shared Error schema: %v", err)
	}
	d.operations(func(path, method string, _, op map[string]any) {
		where := strings.ToUpper(method) + " " + path
		responses, _ := op["responses"].(map[string]any)
		if len(responses) == 0 {
			t.Errorf("%s documents no responses", where)
			return
		}
		sec, hasSec := op["security"].([]any)
		switch {
		case path == agentEnrollPath:
			// No credential: the enrollment token in the body is checked,
			// and a bad one is a 401.
			if _, ok := responses["401"]; !ok {
				t.Errorf("%s does not document 401", where)
			}
			if !hasSec || len(sec) != 0 {
				t.Errorf("%s authenticates with the token in its body and must say `security: []`", where)
			}
		case path == openAPIPath:
			if !hasSec || len(sec) != 0 {
				t.Errorf("%s is public and must say `security: []`", where)
			}
			if _, ok := responses["401"]; ok {
				t.Errorf("%s is public but documents 401", where)
			}
		case strings.HasPrefix(path, "/api/v1/agent/"):
			for _, code := range []string{"401", "403"} {
				if _, ok := responses[code]; !ok {
					t.Errorf("%s does not document %s", where, code)
				}
			}
			if got := securitySchemes(sec); !hasSec || len(sec) != 1 || !slices.Equal(got, []string{"agentCredential"}) {
				t.Errorf("%s must need exactly the agent credential (security: [{agentCredential: []}]), has %v", where, got)
			}
		case strings.HasPrefix(path, "/api/v1/"):
			if _, ok := responses["401"]; !ok {
				t.Errorf("%s does not document 401", where)
			}
			if hasSec && len(sec) == 0 {
				t.Errorf("%s is marked as needing no authentication, but every /api/v1 route but %s does", where, openAPIPath)
			}
			if slices.Contains(securitySchemes(sec), "agentCredential") {
				t.Errorf("%s accepts agent credentials, but only the agent API does", where)
			}
		case !hasSec || len(sec) != 0:
			t.Errorf("%s needs no authentication and must say `security: []`", where)
		}
		for code, r := range responses {
			if status, err := strconv.Atoi(code); err != nil || status < 400 {
				continue
			}
			resp, err := d.deref(r)
			if err != nil {
				t.Errorf("%s %s: %v", where, code, err)
				continue
			}
			if code == "503" && path == "/readyz" {
				continue // readiness answers with its Health body
			}
			content, _ := resp["content"].(map[string]any)
			media, _ := content["application/json"].(map[string]any)
			schema, _ := media["schema"].(map[string]any)
			if schema["$ref"] != "#/components/schemas/Error" {
				t.Errorf("%s %s does not use the shared Error schema", where, code)
			}
		}
	})
}

// TestOpenAPIRequestBodiesAreClosed checks that request schemas reject
// unknown fields, as the server does.
func TestOpenAPIRequestBodiesAreClosed(t *testing.T) {
	d := loadOpenAPIDoc(t)
	d.operations(func(path, method string, _, op map[string]any) {
		body, ok := op["requestBody"]
		if !ok {
			return
		}
		where := strings.ToUpper(method) + " " + path
		rb, err := d.deref(body)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			return
		}
		content, _ := rb["content"].(map[string]any)
		media, _ := content["application/json"].(map[string]any)
		schema, err := d.deref(media["schema"])
		if err != nil {
			t.Errorf("%s: request body schema: %v", where, err)
			return
		}
		if ap, ok := schema["additionalProperties"].(bool); !ok || ap {
			t.Errorf("%s: request body schema must say additionalProperties: false", where)
		}
	})
}

// TestOpenAPISchemasMatchWireTypes keeps the schemas in step with the JSON
// wire types of sdk/api: the same properties, and in replies every field
// without omitempty is required (it is always sent).
func TestOpenAPISchemasMatchWireTypes(t *testing.T) {
	d := loadOpenAPIDoc(t)
	replies := map[string]any{
		"Error": api.ErrorResponse{}, "ErrorDetail": api.ErrorDetail{}, "Health": api.Health{},
		"Issuer": api.Issuer{}, "Target": api.Target{}, "Certificate": api.Certificate{},
		"DeploymentHealth":   api.DeploymentHealth{},
		"CertificateVersion": api.CertificateVersion{}, "Deployment": api.Deployment{}, "Agent": api.Agent{},
		"AgentPlugin": api.AgentPlugin{}, "EnrollmentToken": api.EnrollmentToken{}, "APIKey": api.APIKey{},
		"AuditEvent": api.AuditEvent{}, "Notifier": api.Notifier{}, "NotifierTestResult": api.NotifierTestResult{},
		"ConnectorValidation": api.ConnectorValidation{},
		"Plugin":              api.Plugin{}, "PluginSchema": api.PluginSchema{}, "PluginField": api.PluginField{},
		"Job": api.Job{}, "BulkResult": api.BulkResult{}, "Operation": api.Operation{}, "OperationFilter": api.OperationFilter{}, "KeyRotation": api.KeyRotation{}, "RenewalExplanation": api.RenewalExplanation{},
		"RenewalPolicy": api.RenewalPolicy{}, "NotificationRule": api.NotificationRule{}, "Notification": api.Notification{},
		"AgentEnrollResponse": api.AgentEnrollResponse{}, "AgentHeartbeatResponse": api.AgentHeartbeatResponse{},
		"AgentCredentialResponse": api.AgentCredentialResponse{}, "AgentWork": api.AgentWork{},
		"AgentWorkItem": api.AgentWorkItem{}, "AgentWorkCertificate": api.AgentWorkCertificate{},
		"AgentWorkTarget": api.AgentWorkTarget{},
	}
	requests := map[string]any{
		"IssuerRequest": api.IssuerRequest{}, "IssuerUpdate": api.IssuerRequest{},
		"TargetRequest": api.TargetRequest{}, "TargetUpdate": api.TargetRequest{},
		"NotifierRequest": api.NotifierRequest{}, "NotifierUpdate": api.NotifierRequest{},
		"CertificateRequest": api.CertificateRequest{}, "EnrollmentTokenRequest": api.EnrollmentTokenRequest{},
		"APIKeyRequest": api.APIKeyRequest{}, "CSRRequest": api.CSRRequest{}, "RevokeRequest": api.RevokeRequest{},
		"BulkRenewRequest": api.BulkRenewRequest{}, "BulkRevokeRequest": api.BulkRevokeRequest{}, "ReissueRequest": api.ReissueRequest{},
		"RenewalPolicyRequest": api.RenewalPolicyRequest{}, "NotificationRuleRequest": api.NotificationRuleRequest{},
		"AgentFacts": api.AgentFacts{}, "AgentEnrollRequest": api.AgentEnrollRequest{}, "AgentDeployResult": api.AgentDeployResult{},
	}
	check := func(name string, v any, reply bool) {
		schema, err := d.deref(map[string]any{"$ref": "#/components/schemas/" + name})
		if err != nil {
			t.Errorf("schema %s: %v", name, err)
			return
		}
		props, _ := schema["properties"].(map[string]any)
		var required []string
		list, _ := schema["required"].([]any)
		for _, r := range list {
			if r, ok := r.(string); ok {
				required = append(required, r)
			}
		}
		typ := reflect.TypeOf(v)
		fields := map[string]bool{}
		for i := range typ.NumField() {
			tag := typ.Field(i).Tag.Get("json")
			field, opts, _ := strings.Cut(tag, ",")
			if field == "" || field == "-" {
				continue
			}
			fields[field] = true
			if _, ok := props[field]; !ok {
				t.Errorf("schema %s lacks property %q of %s", name, field, typ)
			}
			if reply && opts != "omitempty" && !slices.Contains(required, field) {
				t.Errorf("schema %s: %q is always sent, so it must be required", name, field)
			}
			if reply && opts == "omitempty" && slices.Contains(required, field) {
				t.Errorf("schema %s: %q is left out when empty, so it must not be required", name, field)
			}
		}
		for p := range props {
			if !fields[p] {
				t.Errorf("schema %s has property %q that %s does not have", name, p, typ)
			}
		}
		for _, r := range required {
			if !fields[r] {
				t.Errorf("schema %s requires %q that %s does not have", name, r, typ)
			}
		}
	}
	for name, v := range replies {
		check(name, v, true)
	}
	for name, v := range requests {
		check(name, v, false)
	}
	// Every list schema wraps the same List type.
	components, _ := d.raw["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	for name := range schemas {
		if strings.HasSuffix(name, "List") {
			check(name, api.List[struct{}]{}, true)
		}
	}
}
