package filetarget

import (
	"github.com/certctl/certctl/plugins/target/internal/pemfile"
	"github.com/certctl/certctl/sdk/plugin"
)

// SeparateFiles lays a certificate out as nginx and Apache read it: the
// certificate in certField's file followed by its chain (a full chain),
// or the chain alone in chainField's file when that field is set; the key
// in keyField's file.
func SeparateFiles(certField, chainField, keyField string) func(plugin.Config, *pemfile.Bundle) []File {
	return func(cfg plugin.Config, b *pemfile.Bundle) []File {
		cert := File{Field: certField, Path: cfg.String(certField), Content: b.FullChain()}
		key := File{Field: keyField, Path: cfg.String(keyField), Content: b.KeyPEM, Secret: true}
		chainPath := cfg.String(chainField)
		if chainPath == "" {
			return []File{cert, key}
		}
		cert.Content = b.LeafPEM
		return []File{cert, {Field: chainField, Path: chainPath, Content: b.ChainPEM}, key}
	}
}

// CombinedFile lays a certificate out as HAProxy reads it: the
// certificate, its chain and its key in field's one file.
func CombinedFile(field string) func(plugin.Config, *pemfile.Bundle) []File {
	return func(cfg plugin.Config, b *pemfile.Bundle) []File {
		return []File{{Field: field, Path: cfg.String(field), Content: b.Combined(), Secret: true}}
	}
}
