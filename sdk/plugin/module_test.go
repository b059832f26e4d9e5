package plugin_test

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
)

// sdkModules are the modules the sdk module may require, directly or as
// the indirect requirements go mod tidy records. Every one ends up in the
// module graph (and most in the binary) of each plugin and program that
// depends on the SDK, so the list is short on purpose; a new entry needs a
// reason a plugin author would accept.
var sdkModules = map[string]string{
	// The plugin protocol: go-plugin's handshake, process management and
	// gRPC broker, with the modules go-plugin itself needs.
	"github.com/hashicorp/go-plugin": "the plugin protocol (Serve, Open)",
	"github.com/hashicorp/go-hclog":  "go-plugin's logger, which the SDK bridges to slog",
	"github.com/hashicorp/yamux":     "go-plugin's connection multiplexer",
	"github.com/oklog/run":           "go-plugin's process group",
	"github.com/fatih/color":         "go-hclog's colour output",
	"github.com/mattn/go-colorable":  "go-hclog's colour output",
	"github.com/mattn/go-isatty":     "go-hclog's colour output",
	// The protocol's wire format and error details.
	"google.golang.org/grpc":                    "the plugin protocol's transport",
	"google.golang.org/protobuf":                "the plugin protocol's messages",
	"google.golang.org/genproto/googleapis/rpc": "error details in gRPC statuses (the SDK's error codes)",
	"github.com/golang/protobuf":                "go-plugin's generated code",
	// sdk/client's bundles.
	"software.sslmate.com/src/go-pkcs12": "PKCS#12 bundles (client.Bundle.PKCS12)",
	// The Go project's own modules, which gRPC and go-pkcs12 build on.
	"golang.org/x/crypto": "go-pkcs12's ciphers",
	"golang.org/x/net":    "gRPC's HTTP/2",
	"golang.org/x/sys":    "system calls of gRPC and go-isatty",
	"golang.org/x/text":   "gRPC's (x/net's) IDNA",
}

// TestSDKModuleRequirements keeps the sdk module small: its go.mod may
// require only the modules above, never certctl's root module (which
// would bring the server's PostgreSQL driver, ACME client, Vault client,
// browser driver and Terraform libraries to every plugin), and may not
// replace modules, since a replace directive applies only inside this
// repository and would let the SDK build here and not for its users.
func TestSDKModuleRequirements(t *testing.T) {
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkSDKGoMod(string(gomod)) {
		t.Error("sdk/go.mod: " + p)
	}
}

// TestCheckSDKGoMod: the check above catches what it is there for.
func TestCheckSDKGoMod(t *testing.T) {
	const head = "module github.com/certctl/certctl/sdk\n\ngo 1.26.0\n\n"
	for _, tc := range []struct {
		name, gomod string
		problems    int
	}{
		{"allowed", head + "require (\n\tgoogle.golang.org/grpc v1.85.0\n\tgolang.org/x/net v0.62.0 // indirect\n)\n", 0},
		{"single-line require", head + "require github.com/hashicorp/go-plugin v1.8.0\n", 0},
		{"the root module", head + "require github.com/certctl/certctl v1.0.0\n", 1},
		{"the server's database driver", head + "require (\n\tgoogle.golang.org/grpc v1.85.0\n\tgithub.com/jackc/pgx/v5 v5.12.0 // indirect\n)\n", 1},
		{"a replace", head + "require google.golang.org/grpc v1.85.0\n\nreplace google.golang.org/grpc => ../grpc\n", 1},
		{"a replace block", head + "replace (\n\tgoogle.golang.org/grpc => ../grpc\n)\n", 1},
		{"another module path", "module github.com/certctl/certctl\n", 1},
	} {
		if got := checkSDKGoMod(tc.gomod); len(got) != tc.problems {
			t.Errorf("%s: problems %q, want %d", tc.name, got, tc.problems)
		}
	}
}

// checkSDKGoMod returns what is wrong with the sdk module's go.mod text.
func checkSDKGoMod(gomod string) []string {
	var problems []string
	module, block := "", ""
	sc := bufio.NewScanner(strings.NewReader(gomod))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
			continue
		case block != "" && fields[0] == ")":
			block = ""
			continue
		case block == "" && len(fields) == 2 && fields[1] == "(":
			block = fields[0]
			continue
		}
		verb := block
		if verb == "" {
			verb, fields = fields[0], fields[1:]
		}
		if len(fields) == 0 {
			continue
		}
		switch verb {
		case "module":
			module = fields[0]
		case "require":
			if fields[0] == "github.com/certctl/certctl" || strings.HasPrefix(fields[0], "github.com/certctl/certctl/") {
				problems = append(problems, fmt.Sprintf("requires %s: the SDK may not depend on certctl's root module, which holds the server", fields[0]))
			} else if _, ok := sdkModules[fields[0]]; !ok {
				problems = append(problems, fmt.Sprintf("requires %s, which is not among the modules the SDK may depend on (sdkModules in sdk/plugin/module_test.go)", fields[0]))
			}
		case "replace":
			problems = append(problems, fmt.Sprintf("replaces %s: a replace applies only inside this repository", fields[0]))
		}
	}
	if module != "github.com/certctl/certctl/sdk" {
		problems = append(problems, fmt.Sprintf("module is %q, want github.com/certctl/certctl/sdk", module))
	}
	return problems
}
