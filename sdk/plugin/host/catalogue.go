package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/certctl/certctl/sdk/plugin"
)

// FileCatalogue is a Catalogue kept in a JSON file (mode 0600), for hosts
// without a database such as the agent. It is safe for concurrent use
// within one process.
type FileCatalogue struct {
	path string
	mu   sync.Mutex
}

// NewFileCatalogue returns a catalogue stored at path.
func NewFileCatalogue(path string) *FileCatalogue {
	return &FileCatalogue{path: path}
}

func (c *FileCatalogue) load() (map[string]Entry, error) {
	entries := map[string]Entry{}
	b, err := os.ReadFile(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return entries, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read plugin catalogue: %w", err)
	}
	if err := json.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("plugin catalogue %s is corrupt: %w", c.path, err)
	}
	return entries, nil
}

// Get implements Catalogue.
func (c *FileCatalogue) Get(_ context.Context, kind plugin.Kind, name string) (Entry, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	entries, err := c.load()
	if err != nil {
		return Entry{}, false, err
	}
	e, ok := entries[key(kind, name)]
	return e, ok, nil
}

// Put implements Catalogue; the file is replaced atomically.
func (c *FileCatalogue) Put(_ context.Context, e Entry) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	entries, err := c.load()
	if err != nil {
		return err
	}
	entries[key(e.Kind, e.Name)] = e
	b, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), ".catalogue-*")
	if err != nil {
		return fmt.Errorf("write plugin catalogue: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write plugin catalogue: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write plugin catalogue: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write plugin catalogue: %w", err)
	}
	if err := os.Rename(tmp.Name(), c.path); err != nil {
		return fmt.Errorf("write plugin catalogue: %w", err)
	}
	return nil
}
