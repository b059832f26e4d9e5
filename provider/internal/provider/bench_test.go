package provider

// bench_test.go: what `terraform plan` costs on a large configuration. The
// built provider (dev_overrides) and the real terraform plan, with refresh,
// a configuration of benchCertificates certificates on the test server;
// each iteration is one whole `terraform plan`, which must find nothing to
// do. Run with: go test -run '^$' -bench PlanRefresh -benchtime 1x ./provider/internal/provider/

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/client"
	"github.com/certctl/certctl/tools/doctest"
)

// benchCertificates is the size of the configuration: issue 9 sets a
// target of 30 s for a plan over 1,000 certificates on 2 cores.
const benchCertificates = 1000

func BenchmarkPlanRefresh1000Certificates(b *testing.B) {
	root := doctest.RepoRoot(b)
	if _, err := os.Stat(filepath.Join(root, "bin", "terraform-provider-certctl")); err != nil {
		b.Fatalf("bin/terraform-provider-certctl is missing: run make build first: %v", err)
	}
	work, err := os.MkdirTemp(os.Getenv("TF_ACC_TEMP_DIR"), "bench-plan-")
	if err != nil {
		b.Fatal(err)
	}
	cli := filepath.Join(work, "terraformrc")
	cfgDir := filepath.Join(work, "config")
	for p, s := range map[string]string{
		cli: fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"certctl/certctl\" = %q\n  }\n  direct {}\n}\n", filepath.Join(root, "bin")),
		filepath.Join(cfgDir, "main.tf"): `
terraform {
  required_providers {
    certctl = { source = "certctl/certctl" }
  }
}

variable "n" {
  type = number
}

resource "certctl_issuer" "ca" {
  name = "bench-ca"
  type = "local"
}

resource "certctl_certificate" "c" {
  count       = var.n
  name        = "bench-${count.index}"
  common_name = "bench-${count.index}.example.com"
  sans        = ["bench-${count.index}.example.com"]
  issuer_id   = certctl_issuer.ca.id
  labels      = { bench = "plan" }
}
`,
	} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	tf := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Getenv("TF_ACC_TERRAFORM_PATH"), append([]string{"-chdir=" + cfgDir}, args...)...)
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cli, "TF_IN_AUTOMATION=1")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	n := "-var=n=" + strconv.Itoa(benchCertificates)
	start := time.Now()
	if out, err := tf("apply", "-auto-approve", "-input=false", "-no-color", n); err != nil {
		b.Fatalf("terraform apply: %v\n%s", err, tail(out, 40))
	}
	b.Logf("apply of %d certificates: %v", benchCertificates, time.Since(start).Round(time.Millisecond))
	b.Cleanup(func() {
		if out, err := tf("destroy", "-auto-approve", "-input=false", "-no-color", n); err != nil {
			b.Errorf("terraform destroy: %v\n%s", err, tail(out, 40))
		}
	})
	// Same-run baselines: the reads a refresh makes, through the SDK alone
	// at Terraform's default parallelism (10), and a plan without refresh
	// (Terraform's own work on this configuration).
	sdkReads := readAllCertificates(b, 10)
	start = time.Now()
	if out, err := tf("plan", "-refresh=false", "-detailed-exitcode", "-input=false", "-no-color", n); err != nil {
		b.Fatalf("terraform plan -refresh=false: %v\n%s", err, tail(out, 40))
	}
	noRefresh := time.Since(start)

	b.ResetTimer()
	for b.Loop() {
		if out, err := tf("plan", "-detailed-exitcode", "-input=false", "-no-color", n); err != nil {
			b.Fatalf("terraform plan: %v (exit 2 means changes)\n%s", err, tail(out, 40))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/plan")
	b.ReportMetric(noRefresh.Seconds(), "s/plan-no-refresh")
	b.ReportMetric(sdkReads.Seconds(), "s/sdk-reads")
}

// readAllCertificates reads every certificate of the bench's
// configuration once through the SDK, parallel at a time, as a refresh
// does, and returns how long that took.
func readAllCertificates(b *testing.B, parallel int) time.Duration {
	ctx := context.Background()
	var ids []string
	for c, err := range env.client.AllCertificates(ctx, client.CertificateListOptions{NamePrefix: "bench-"}) {
		if err != nil {
			b.Fatalf("listing the bench's certificates: %v", err)
		}
		ids = append(ids, c.ID)
	}
	if len(ids) != benchCertificates {
		b.Fatalf("found %d bench certificates, want %d", len(ids), benchCertificates)
	}
	start := time.Now()
	work := make(chan string)
	errs := make(chan error, parallel)
	for range parallel {
		go func() {
			var first error
			for id := range work {
				if _, err := env.client.GetCertificate(ctx, id); err != nil && first == nil {
					first = err
				}
			}
			errs <- first
		}()
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	for range parallel {
		if err := <-errs; err != nil {
			b.Fatalf("reading a certificate: %v", err)
		}
	}
	return time.Since(start)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := bytes.Split([]byte(s), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
