// This file holds the checks every plugin must pass, whatever its kind:
// handshake, Info, configuration, bad input, cancellation, concurrency.

package plugintest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

// prompt is how soon a canceled or nearly expired call must return.
const prompt = 2 * time.Second

// namePattern is what a plugin name may look like: it is part of the
// binary's file name (certctl-plugin-<kind>-<name>), of API paths, and
// the connector type users write.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// checkWrongKind starts the binary with every other kind's handshake,
// which it must refuse: a notifier started as an issuer would be called
// with requests it does not understand.
func (s *Session) checkWrongKind(ctx context.Context) error {
	var errs []error
	for _, kind := range plugin.Kinds {
		if kind == s.Options.Kind {
			continue
		}
		p, err := plugin.Open(ctx, plugin.OpenOptions{Path: s.Options.Binary, Kind: kind, SocketDir: s.socketDir})
		if err == nil {
			p.Kill()
			errs = append(errs, fmt.Errorf("the binary accepted the %s handshake, but it is a %s plugin", kind, s.Options.Kind))
		}
	}
	return errors.Join(errs...)
}

// checkInfo checks what the plugin says about itself.
func (s *Session) checkInfo(ctx context.Context) error {
	info, err := s.Process.Plugin().Info(ctx)
	if err != nil {
		return fmt.Errorf("Info: %w", err)
	}
	var errs []error
	if !namePattern.MatchString(info.Name) {
		errs = append(errs, fmt.Errorf("Info.Name %q must be lower-case letters, digits, '-' and '_'", info.Name))
	}
	if info.Kind != s.Options.Kind {
		errs = append(errs, fmt.Errorf("Info.Kind is %q, want %q", info.Kind, s.Options.Kind))
	}
	if strings.TrimSpace(info.Version) == "" {
		errs = append(errs, errors.New("Info.Version is empty"))
	}
	if !slices.Contains(info.ProtocolVersions, plugin.ProtocolVersion) {
		errs = append(errs, fmt.Errorf("Info.ProtocolVersions %v lacks protocol version %d", info.ProtocolVersions,
			plugin.ProtocolVersion))
	}
	if err := info.Schema.Check(); err != nil {
		errs = append(errs, err)
	}
	for _, f := range info.Schema.Fields {
		if strings.TrimSpace(f.Description) == "" {
			errs = append(errs, fmt.Errorf("schema field %q has no description: hosts show it to users", f.Name))
		}
	}
	return errors.Join(errs...)
}

// checkValidConfig checks that ValidConfig passes the schema and the plugin.
func (s *Session) checkValidConfig(ctx context.Context) error {
	cfg, err := s.validConfig()
	if err != nil {
		return err
	}
	if err := s.Process.Plugin().ValidateConfig(ctx, plugin.ValidateConfigRequest{Config: cfg}); err != nil {
		return fmt.Errorf("ValidateConfig refused ValidConfig: %w", err)
	}
	return nil
}

// checkInvalidConfig checks that a bad configuration is refused with
// CodeInvalidConfig naming ic.Field, as a host sees it: first by the
// schema, else by ValidateConfig on the normalised configuration. The
// error must not quote the values of sensitive fields.
func (s *Session) checkInvalidConfig(ctx context.Context, ic InvalidConfig) error {
	var err error
	norm, schemaErr := s.Info.Schema.Normalize(ic.Config)
	if schemaErr != nil {
		// The host refuses it before the plugin sees it; a plugin called
		// anyway must refuse it too.
		err = schemaErr
		if perr := s.Process.Plugin().ValidateConfig(ctx, plugin.ValidateConfigRequest{Config: ic.Config}); perr == nil {
			return fmt.Errorf("ValidateConfig accepted %v, which its schema refuses (%v)", s.Info.Schema.Redact(ic.Config), schemaErr)
		} else if aerr := s.alive("ValidateConfig of a configuration its schema refuses"); aerr != nil {
			return aerr
		}
	} else {
		err = s.Process.Plugin().ValidateConfig(ctx, plugin.ValidateConfigRequest{Config: norm})
		if err == nil {
			return fmt.Errorf("ValidateConfig accepted %v, want an invalid_config error", s.Info.Schema.Redact(norm))
		}
	}
	var pe *plugin.Error
	if !errors.As(err, &pe) || pe.Code != plugin.CodeInvalidConfig {
		return fmt.Errorf("error %v has code %q, want %q", err, plugin.ErrorCode(err), plugin.CodeInvalidConfig)
	}
	if ic.Field != "" && pe.Field != ic.Field {
		return fmt.Errorf("error %v names field %q, want %q", err, pe.Field, ic.Field)
	}
	for _, name := range s.Info.Schema.SensitiveFields() {
		if v, ok := ic.Config[name].(string); ok && len(v) >= 4 && strings.Contains(pe.Message, v) {
			return fmt.Errorf("the error message quotes the value of sensitive field %q", name)
		}
	}
	return nil
}

// garbage are values of the wrong type for each field type.
var garbage = map[string][]any{
	plugin.TypeString:     {42.0, []any{"a"}},
	plugin.TypeInt:        {"12", 1.5, true},
	plugin.TypeBool:       {"true", 1.0},
	plugin.TypeDuration:   {true, "forever", -5.0},
	plugin.TypeStringList: {"a,b", []any{1.0}, map[string]any{"a": "b"}},
}

// checkGarbageConfig sends ValidateConfig configurations its schema
// refuses (a value of the wrong type in each field in turn, an unknown
// field) as a careless host or a bug might: each must be refused with an
// error, and the process must survive them all.
func (s *Session) checkGarbageConfig(ctx context.Context) error {
	type attempt struct {
		what string
		cfg  plugin.Config
	}
	var attempts []attempt
	for _, f := range s.Info.Schema.Fields {
		for _, v := range garbage[f.Type] {
			cfg := s.Options.ValidConfig.Clone()
			cfg[f.Name] = v
			attempts = append(attempts, attempt{fmt.Sprintf("%s = %#v", f.Name, v), cfg})
		}
	}
	unknown := s.Options.ValidConfig.Clone()
	unknown["plugintest_unknown_field"] = "x"
	attempts = append(attempts, attempt{"an unknown field", unknown})

	var errs []error
	for _, a := range attempts {
		if _, err := s.Info.Schema.Normalize(a.cfg); err == nil {
			continue // the schema accepts it after all (e.g. a field without a type check)
		}
		err := s.Process.Plugin().ValidateConfig(ctx, plugin.ValidateConfigRequest{Config: a.cfg})
		if aerr := s.alive("ValidateConfig with " + a.what); aerr != nil {
			return aerr
		}
		if err == nil {
			errs = append(errs, fmt.Errorf("ValidateConfig accepted %s, which the schema refuses", a.what))
		}
	}
	return errors.Join(errs...)
}

// checkCanceled makes a call with a context already canceled: it must
// return at once with CodeCanceled or CodeDeadline, and the plugin must
// go on serving.
func (s *Session) checkCanceled(ctx context.Context) error {
	cfg, err := s.validConfig()
	if err != nil {
		return err
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	start := time.Now()
	err = s.Process.Plugin().ValidateConfig(canceled, plugin.ValidateConfigRequest{Config: cfg})
	if took := time.Since(start); took > prompt {
		return fmt.Errorf("ValidateConfig with a canceled context took %s, want under %s", took, prompt)
	}
	if code := plugin.ErrorCode(err); code != plugin.CodeCanceled && code != plugin.CodeDeadline {
		return fmt.Errorf("ValidateConfig with a canceled context returned %v, want code %s or %s", err,
			plugin.CodeCanceled, plugin.CodeDeadline)
	}
	return s.servesAfter(ctx, "a canceled call")
}

// checkShortDeadline makes a call with a 1 ms deadline: it must return
// promptly (done, or with CodeDeadline or CodeCanceled), and the plugin
// must go on serving.
func (s *Session) checkShortDeadline(ctx context.Context) error {
	cfg, err := s.validConfig()
	if err != nil {
		return err
	}
	short, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Process.Plugin().ValidateConfig(short, plugin.ValidateConfigRequest{Config: cfg})
	if took := time.Since(start); took > prompt {
		return fmt.Errorf("ValidateConfig with a 1ms deadline took %s, want under %s", took, prompt)
	}
	if code := plugin.ErrorCode(err); err != nil && code != plugin.CodeCanceled && code != plugin.CodeDeadline {
		return fmt.Errorf("ValidateConfig with a 1ms deadline returned %v, want success or code %s", err, plugin.CodeDeadline)
	}
	return s.servesAfter(ctx, "a call that ran out of time")
}

// servesAfter checks that a normal call still succeeds promptly.
func (s *Session) servesAfter(ctx context.Context, what string) error {
	cfg, err := s.validConfig()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := s.Process.Plugin().ValidateConfig(ctx, plugin.ValidateConfigRequest{Config: cfg}); err != nil {
		return fmt.Errorf("ValidateConfig after %s: %w", what, err)
	}
	if took := time.Since(start); took > prompt {
		return fmt.Errorf("ValidateConfig after %s took %s: is the plugin still busy with the abandoned call?", what, took)
	}
	return nil
}

// concurrentCalls is how many calls checkConcurrency makes at once.
const concurrentCalls = 20

// checkConcurrency makes Info and ValidateConfig calls in parallel on one
// process, as a busy host does: all must succeed.
func (s *Session) checkConcurrency(ctx context.Context) error {
	cfg, err := s.validConfig()
	if err != nil {
		return err
	}
	p := s.Process.Plugin()
	errs := make([]error, concurrentCalls)
	var wg sync.WaitGroup
	for i := range concurrentCalls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				if _, err := p.Info(ctx); err != nil {
					errs[i] = fmt.Errorf("concurrent Info: %w", err)
				}
			} else if err := p.ValidateConfig(ctx, plugin.ValidateConfigRequest{Config: cfg.Clone()}); err != nil {
				errs[i] = fmt.Errorf("concurrent ValidateConfig: %w", err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// checkStillAnswers checks, after everything else, that the process is
// alive and serving.
func (s *Session) checkStillAnswers(ctx context.Context) error {
	if err := s.alive("the checks"); err != nil {
		return err
	}
	if _, err := s.Process.Plugin().Info(ctx); err != nil {
		return fmt.Errorf("Info after the checks: %w", err)
	}
	return nil
}

// callFailed checks the outcome of a call given bad input: it must fail
// (with code want, if want is not ""), and the process must survive.
func (s *Session) callFailed(what string, err error, want string) error {
	if aerr := s.alive(what); aerr != nil {
		return aerr
	}
	if err == nil {
		return fmt.Errorf("%s succeeded, want an error", what)
	}
	if code := plugin.ErrorCode(err); want != "" && code != want {
		return fmt.Errorf("%s returned %v (code %s), want code %s", what, err, code, want)
	}
	return nil
}
