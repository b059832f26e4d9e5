package dns01

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/go-acme/lego/v5/challenge"
	legodns01 "github.com/go-acme/lego/v5/challenge/dns01"
	legolog "github.com/go-acme/lego/v5/log"
)

// legoLogOnce points lego's logger at the plugin's. lego logs to standard
// output by default, which in a plugin is go-plugin's handshake channel,
// not a log the host reads.
var legoLogOnce sync.Once

// legoMu guards what lego keeps process-wide. Its providers read their
// credentials from the environment when they are constructed, and its DNS
// client (CNAME and zone lookups inside Present) is one package variable:
// an issuer that sets either holds the write lock and puts them back.
// Calls with the system's resolvers change neither and share the read
// lock, so a slow provider API (route53 waits for its change to sync)
// holds up only issuers that configured resolvers of their own.
var legoMu sync.RWMutex

// LegoProviders lists the lego DNS provider names compiled in, sorted.
func LegoProviders() []string {
	out := make([]string, 0, len(legoProviders))
	for name := range legoProviders {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

func isLegoProvider(name string) bool { _, ok := legoProviders[name]; return ok }

// legoSolver adapts a lego DNS provider.
type legoSolver struct {
	name      string
	provider  challenge.Provider
	resolvers []string
}

func newLego(cfg Config) (*legoSolver, error) {
	newProvider, ok := legoProviders[cfg.Provider]
	if !ok {
		return nil, plugin.InvalidConfig(FieldProvider, "unknown DNS provider %q (known: %s, %s, %s)",
			cfg.Provider, ProviderRFC2136, ProviderHook, strings.Join(LegoProviders(), ", "))
	}
	legoLogOnce.Do(func() { legolog.SetDefault(plugin.Logger().With("component", "lego")) })
	legoMu.Lock()
	defer legoMu.Unlock()
	restore := setEnv(cfg.Credentials)
	p, err := newProvider()
	restore()
	if err != nil {
		// lego's messages name the missing variables; they never contain
		// the values.
		return nil, plugin.InvalidConfig(FieldCredentials, "DNS provider %s: %v", cfg.Provider, err)
	}
	return &legoSolver{name: cfg.Provider, provider: p, resolvers: cfg.Resolvers}, nil
}

// setEnv sets vars in the process environment and returns the function
// that puts back what was there before. The caller holds legoMu.
func setEnv(vars map[string]string) (restore func()) {
	type old struct {
		value string
		set   bool
	}
	saved := map[string]old{}
	for k, v := range vars {
		prev, set := os.LookupEnv(k)
		saved[k] = old{prev, set}
		os.Setenv(k, v)
	}
	return func() {
		for k, o := range saved {
			if o.set {
				os.Setenv(k, o.value)
			} else {
				os.Unsetenv(k)
			}
		}
	}
}

func (s *legoSolver) Present(ctx context.Context, ch Challenge) error {
	return s.call(ctx, ch, "present", s.provider.Present)
}

func (s *legoSolver) CleanUp(ctx context.Context, ch Challenge) error {
	return s.call(ctx, ch, "cleanup", s.provider.CleanUp)
}

func (s *legoSolver) call(ctx context.Context, ch Challenge, action string, f func(ctx context.Context, domain, token, keyAuth string) error) error {
	if err := ch.check(); err != nil {
		return err
	}
	// lego takes the base name of a wildcard and adds _acme-challenge
	// itself; it follows CNAMEs with its own client, pointed here at the
	// configured resolvers.
	domain := strings.TrimSuffix(strings.TrimPrefix(ch.Domain, "*."), ".")
	token, _, _ := strings.Cut(ch.KeyAuthorization, ".")
	if len(s.resolvers) == 0 {
		legoMu.RLock()
		defer legoMu.RUnlock()
	} else {
		legoMu.Lock()
		defer legoMu.Unlock()
		prev := legodns01.DefaultClient()
		opts := legodns01.NewOptions()
		opts.RecursiveNameservers = s.resolvers
		legodns01.SetDefaultClient(legodns01.NewClient(opts))
		defer legodns01.SetDefaultClient(prev)
	}
	if err := f(ctx, domain, token, ch.KeyAuthorization); err != nil {
		return fmt.Errorf("dns01 %s %s %s: %w", s.name, action, domain, err)
	}
	return nil
}
