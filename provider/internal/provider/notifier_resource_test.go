package provider

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// webhookReceiver records the deliveries of a webhook notifier.
type webhookReceiver struct {
	*httptest.Server
	mu        sync.Mutex
	delivered []delivery
}

type delivery struct {
	timestamp, signature string
	body                 []byte
}

func newWebhookReceiver(t *testing.T) *webhookReceiver {
	t.Helper()
	rcv := &webhookReceiver{}
	rcv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rcv.mu.Lock()
		rcv.delivered = append(rcv.delivered, delivery{r.Header.Get("X-Certctl-Timestamp"), r.Header.Get("X-Certctl-Signature"), body})
		rcv.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rcv.Close)
	return rcv
}

// signedWith sends a test notification through the notifier and says
// whether the receiver got it signed with secret, as the webhook plugin
// signs (HMAC-SHA256 of "<timestamp>.<body>").
func (rcv *webhookReceiver) signedWith(notifierID, secret string) error {
	rcv.mu.Lock()
	before := len(rcv.delivered)
	rcv.mu.Unlock()
	res, err := env.client.TestNotifier(context.Background(), notifierID)
	if err != nil {
		return fmt.Errorf("test notification: %w", err)
	}
	if !res.Delivered {
		return fmt.Errorf("test notification not delivered")
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.delivered) != before+1 {
		return fmt.Errorf("the receiver got %d deliveries, want 1", len(rcv.delivered)-before)
	}
	d := rcv.delivered[before]
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(d.timestamp + "."))
	m.Write(d.body)
	if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); d.signature != want {
		return fmt.Errorf("delivery signed %q, not with the expected secret", d.signature)
	}
	return nil
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func notifierConfig(config, url, secret string, version int) string {
	return fmt.Sprintf(`
resource "certctl_notifier" "hook" {
  name   = "tf-hook"
  type   = "webhook"
  config = jsonencode(%s)
  sensitive_config_wo = jsonencode({ url = %q, secret = %q })
  sensitive_config_wo_version = %d
}
`, config, url, secret, version)
}

// TestNotifierResource: a webhook notifier whose URL and signing secret are
// write-only; rotating the secret means a new version; a typo fails the
// plan; import; and the secrets reach no state file (the scan after the
// tests).
func TestNotifierResource(t *testing.T) {
	rcv := newWebhookReceiver(t)
	url := rcv.URL + "/hook/" + randomHex(t) // the URL is secret too
	s1, s2, s3 := "first-"+randomHex(t), "second-"+randomHex(t), "third-"+randomHex(t)
	for what, v := range map[string]string{"a webhook URL (write-only)": url, "webhook secret 1": s1, "webhook secret 2": s2, "webhook secret 3": s3} {
		noteSecret(what, v)
	}
	var id string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers(),
		Steps: []resource.TestStep{
			{
				Config:      notifierConfig(`{ timout = "5s" }`, url, s1, 1),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`timout`),
			},
			{
				// A sensitive field in a write-only value is checked too.
				Config:      notifierConfig(`{ timeout = "5s" }`, "ftp://example.com/hook", s1, 1),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`url`),
			},
			{
				Config: notifierConfig(`{ timeout = "5s" }`, url, s1, 1),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("certctl_notifier.hook", tfjsonpath.New("secret_fields"),
						knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("url"), knownvalue.StringExact("secret")})),
					statecheck.ExpectKnownValue("certctl_notifier.hook", tfjsonpath.New("sensitive_config_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue("certctl_notifier.hook", tfjsonpath.New("enabled"), knownvalue.Bool(true)),
				},
				Check: func(s *terraform.State) error {
					id = idOf(s, "certctl_notifier.hook")
					return rcv.signedWith(id, s1)
				},
			},
			{
				// A new version sends the write-only secrets again: rotated.
				Config: notifierConfig(`{ timeout = "5s" }`, url, s2, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("certctl_notifier.hook", plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error { return rcv.signedWith(id, s2) },
			},
			{
				// Without a new version Terraform cannot see the change:
				// nothing to do, and the server keeps the second secret.
				Config:           notifierConfig(`{ timeout = "5s" }`, url, s3, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check:            func(*terraform.State) error { return rcv.signedWith(id, s2) },
			},
			{
				ResourceName:            "certctl_notifier.hook",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"config", "sensitive_config_wo_version"},
			},
		},
	})
}

// TestNotifierSensitiveConfig: secrets in sensitive_config (kept in the
// state, marked sensitive) work as well, and disabling changes in place.
func TestNotifierSensitiveConfig(t *testing.T) {
	rcv := newWebhookReceiver(t)
	secret := "state-" + randomHex(t)
	cfg := func(enabled bool) string {
		return fmt.Sprintf(`
resource "certctl_notifier" "hook" {
  name    = "tf-hook-state"
  type    = "webhook"
  enabled = %t
  sensitive_config = jsonencode({ url = %q, secret = %q })
}
`, enabled, rcv.URL, secret)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers(),
		Steps: []resource.TestStep{
			{
				Config: cfg(true),
				Check:  func(s *terraform.State) error { return rcv.signedWith(idOf(s, "certctl_notifier.hook"), secret) },
			},
			{
				Config: cfg(false),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("certctl_notifier.hook", plancheck.ResourceActionUpdate),
				}},
				Check: func(s *terraform.State) error {
					n, err := env.client.GetNotifier(context.Background(), idOf(s, "certctl_notifier.hook"))
					if err != nil {
						return err
					}
					if n.Enabled {
						return fmt.Errorf("notifier still enabled")
					}
					return nil
				},
			},
			{
				ResourceName:            "certctl_notifier.hook",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"config", "sensitive_config"},
			},
		},
	})
}
