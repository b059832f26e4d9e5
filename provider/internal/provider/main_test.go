package provider

// main_test.go starts what every acceptance test of this package uses: one
// real certctl server (bin/certctl-server, as `make run` starts it, with its
// embedded PostgreSQL and the real plugins of bin/plugins) on 127.0.0.1,
// and the real terraform binary. After the tests, every state file they
// wrote is searched for private keys and for the secrets the tests gave or
// received (see secrets_test.go).

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"

	"github.com/certctl/certctl/sdk/client"
	"github.com/certctl/certctl/tools/doctest"
)

// testEnv is the server the tests share, set once by TestMain.
type testEnv struct {
	url    string
	key    string // the bootstrap admin key
	client *client.Client
	// workDir holds terraform's working directories (kept, for the
	// state scan).
	workDir string
}

var env testEnv

// acceptanceTests counts the test cases that ran terraform, so that the
// state scan knows whether it must have found state files.
var acceptanceTests atomic.Int64

// secretsSeen collects values that must never be in a state file: write-only
// secrets the tests sent, keys and tokens ephemeral resources returned.
var secretsSeen struct {
	sync.Mutex
	values map[string]string // value -> what it is
}

// noteSecret registers v for the state scan.
func noteSecret(what, v string) {
	secretsSeen.Lock()
	defer secretsSeen.Unlock()
	if secretsSeen.values == nil {
		secretsSeen.values = map[string]string{}
	}
	secretsSeen.values[v] = what
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "certctl-provider-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	if err := setupTerraform(tmp); err != nil {
		fmt.Fprintln(os.Stderr, "provider tests:", err)
		return 1
	}
	srv, err := startServer(tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "provider tests:", err)
		if srv != nil {
			fmt.Fprintln(os.Stderr, srv.Log(80))
		}
		return 1
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "provider tests: stop certctl-server:", err)
		}
	}()
	code := m.Run()
	if code == 0 {
		if err := scanStateFiles(env.workDir); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL: state scan:", err)
			code = 1
		}
	}
	if code != 0 {
		fmt.Fprintln(os.Stderr, "--- certctl-server log (tail)\n"+srv.Log(60))
	}
	return code
}

// setupTerraform points terraform-plugin-testing at the terraform binary on
// PATH (it would download one otherwise), gives terraform a CLI
// configuration file of our own (the environment may name one that does
// not exist), and keeps the working directories for the state scan.
func setupTerraform(tmp string) error {
	if os.Getenv("TF_ACC") == "" {
		os.Setenv("TF_ACC", "1")
	}
	if os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		p, err := exec.LookPath("terraform")
		if err != nil {
			return fmt.Errorf("terraform is needed on PATH (or TF_ACC_TERRAFORM_PATH): %w", err)
		}
		os.Setenv("TF_ACC_TERRAFORM_PATH", p)
	}
	if err := checkTerraformVersion(os.Getenv("TF_ACC_TERRAFORM_PATH")); err != nil {
		return err
	}
	cli := filepath.Join(tmp, "terraformrc")
	if err := os.WriteFile(cli, []byte("# written by the certctl provider tests\n"), 0o600); err != nil {
		return err
	}
	os.Setenv("TF_CLI_CONFIG_FILE", cli)
	env.workDir = filepath.Join(tmp, "work")
	if err := os.MkdirAll(env.workDir, 0o700); err != nil {
		return err
	}
	os.Setenv("TF_ACC_TEMP_DIR", env.workDir)
	os.Setenv("TF_ACC_PERSIST_WORKING_DIR", "1")
	os.Setenv("CHECKPOINT_DISABLE", "1")
	return nil
}

// minTerraform is the oldest terraform the tests can run with: write-only
// arguments came with 1.11 (ephemeral resources with 1.10).
const minTerraform = "1.11.0"

// checkTerraformVersion fails clearly on a terraform too old for the tests,
// rather than in the middle of the write-only ones.
func checkTerraformVersion(bin string) error {
	out, err := exec.Command(bin, "version", "-json").Output()
	if err != nil {
		return fmt.Errorf("%s version: %w", bin, err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return fmt.Errorf("%s version -json: %w", bin, err)
	}
	if versionLess(v.Version, minTerraform) {
		return fmt.Errorf("%s is terraform %s; the provider tests need %s or later (write-only arguments)", bin, v.Version, minTerraform)
	}
	return nil
}

// versionLess compares dotted versions numerically ("1.9.8" < "1.11.0").
func versionLess(a, b string) bool {
	pa, pb := strings.Split(strings.SplitN(a, "-", 2)[0], "."), strings.Split(b, ".")
	for i := range pb {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		y, _ = strconv.Atoi(pb[i])
		if x != y {
			return x < y
		}
	}
	return false
}

// startServer runs bin/certctl-server on a fresh data directory and sets
// the provider's environment (CERTCTL_URL, CERTCTL_API_KEY) to it.
func startServer(tmp string) (*doctest.Server, error) {
	root, err := doctest.FindRepoRoot()
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(root, "bin", "certctl-server")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s is missing: run make build first: %w", bin, err)
	}
	data := filepath.Join(tmp, "data")
	// As root the embedded PostgreSQL runs as the postgres user, which must
	// be able to traverse the data directory and its parents.
	if err := os.Mkdir(data, 0o711); err != nil {
		return nil, err
	}
	for _, d := range []string{tmp, data} {
		if err := os.Chmod(d, 0o711); err != nil {
			return nil, err
		}
	}
	srv := &doctest.Server{Bin: bin, DataDir: data, Addr: "127.0.0.1:0"}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		return srv, err
	}
	env.url, env.key = srv.URL(), srv.Key
	env.client, err = client.New(env.url, client.WithAPIKey(env.key))
	if err != nil {
		return srv, err
	}
	for k := range envKeys() {
		os.Unsetenv(k)
	}
	os.Setenv(EnvURL, env.url)
	os.Setenv(EnvAPIKey, env.key)
	noteSecret("the admin API key", env.key)
	return srv, nil
}

// envKeys are CERTCTL_ variables of the developer's environment, which
// must not reach the provider under test.
func envKeys() map[string]bool {
	out := map[string]bool{}
	for _, kv := range os.Environ() {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				if k := kv[:i]; len(k) > 8 && k[:8] == "CERTCTL_" {
					out[k] = true
				}
				break
			}
		}
	}
	return out
}

// providers are the provider factories of every test: this provider, served
// in the test process, and the echo provider that makes ephemeral values
// visible to checks.
func providers() map[string]func() (tfprotov6.ProviderServer, error) {
	acceptanceTests.Add(1)
	return map[string]func() (tfprotov6.ProviderServer, error){
		"certctl": providerserver.NewProtocol6WithError(New("test")()),
		"echo":    echoprovider.NewProviderServer(),
	}
}
