package cli

// config.go reads and writes the configuration file: named contexts, each
// a server URL with its API key and TLS settings, and the current one.
// The file may hold API keys, so it is written 0600 in a 0700 directory,
// and a key is not used from a file that others can read.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Context is one named server in the configuration file.
type Context struct {
	Name               string `yaml:"name"`
	URL                string `yaml:"url,omitempty"`
	APIKey             string `yaml:"api-key,omitempty"`
	CAFile             string `yaml:"ca-file,omitempty"`
	InsecureSkipVerify bool   `yaml:"insecure-skip-verify,omitempty"`
}

// Config is the configuration file.
type Config struct {
	CurrentContext string    `yaml:"current-context,omitempty"`
	Contexts       []Context `yaml:"contexts,omitempty"`

	path string      // where it was read from or goes to
	mode fs.FileMode // its permission bits when read; 0 when it did not exist
}

// Context returns the context called name.
func (c *Config) Context(name string) (*Context, bool) {
	for i := range c.Contexts {
		if c.Contexts[i].Name == name {
			return &c.Contexts[i], true
		}
	}
	return nil, false
}

// configPath is where the configuration file is: --config, then
// CERTCTL_CONFIG, then $XDG_CONFIG_HOME/certctl/config.yaml, then
// ~/.config/certctl/config.yaml.
func configPath(flag string, getenv func(string) string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if p := getenv("CERTCTL_CONFIG"); p != "" {
		return p, nil
	}
	if x := getenv("XDG_CONFIG_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "certctl", "config.yaml"), nil
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("find the configuration file: %w (set --config or CERTCTL_CONFIG)", err)
		}
	}
	return filepath.Join(home, ".config", "certctl", "config.yaml"), nil
}

// loadConfig reads the configuration file at path; a file that does not
// exist is an empty configuration.
func loadConfig(path string) (*Config, error) {
	cfg := &Config{path: path}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return nil, fmt.Errorf("configuration file: %w", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("configuration file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) { // io.EOF: an empty file
		return nil, fmt.Errorf("configuration file %s: %w", path, err)
	}
	cfg.path, cfg.mode = path, fi.Mode().Perm()
	seen := map[string]bool{}
	for _, c := range cfg.Contexts {
		if c.Name == "" {
			return nil, fmt.Errorf("configuration file %s: a context has no name", path)
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("configuration file %s: context %q appears twice", path, c.Name)
		}
		seen[c.Name] = true
	}
	return cfg, nil
}

// checkKeyReadable refuses to use an API key from a file that anyone but
// its owner may read: the key would be readable by every local user.
func (c *Config) checkKeyReadable() error {
	if c.mode&0o077 != 0 {
		return fmt.Errorf("configuration file %s holds an API key and is readable by others (mode %04o): run chmod 600 %s",
			c.path, c.mode, c.path)
	}
	return nil
}

// save writes the file atomically, mode 0600, creating its directory
// (0700) when needed.
func (c *Config) save() error {
	dir := filepath.Dir(c.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save configuration: %w", err)
	}
	data, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Errorf("save configuration: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".config-*.yaml")
	if err != nil {
		return fmt.Errorf("save configuration: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, this fails harmlessly
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("save configuration: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save configuration: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save configuration: %w", err)
	}
	if err := os.Rename(tmp.Name(), c.path); err != nil {
		return fmt.Errorf("save configuration: %w", err)
	}
	c.mode = 0o600
	return nil
}

// setContext adds or changes a context and keeps the list sorted by name,
// so that the file reads the same whatever order contexts were added in.
func (c *Config) setContext(ctx Context) {
	if cur, ok := c.Context(ctx.Name); ok {
		*cur = ctx
		return
	}
	c.Contexts = append(c.Contexts, ctx)
	slices.SortFunc(c.Contexts, func(a, b Context) int { return strings.Compare(a.Name, b.Name) })
}

// deleteContext removes a context; the current context is unset when it
// was that one.
func (c *Config) deleteContext(name string) bool {
	i := slices.IndexFunc(c.Contexts, func(x Context) bool { return x.Name == name })
	if i < 0 {
		return false
	}
	c.Contexts = slices.Delete(c.Contexts, i, i+1)
	if c.CurrentContext == name {
		c.CurrentContext = ""
	}
	return true
}
