package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certctl/certctl/server/app"
	"github.com/certctl/certctl/server/pgtest"
	"github.com/certctl/certctl/server/secrets"
	"github.com/certctl/certctl/server/store"
)

const rotationAdminKey = "cck_rotation-tests-preset-admin-key-0123456789"

// try is call for goroutines other than the test's: it returns an error
// instead of failing the test.
func try(addr, method, path, body string, want int) (map[string]any, []byte, error) {
	req, err := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+rotationAdminKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return nil, data, fmt.Errorf("%s %s: %d %s, want %d", method, path, resp.StatusCode, data, want)
	}
	out := map[string]any{}
	_ = json.Unmarshal(data, &out)
	return out, data, nil
}

// sealedValues reads every sealed value of the database, by context.
func sealedValues(t *testing.T, pool *pgxpool.Pool) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, c := range store.SealedColumns {
		rows, err := pool.Query(context.Background(), fmt.Sprintf(
			`SELECT id, %s FROM %s WHERE octet_length(%[1]s) > 0`, c.ReadExpr(), c.Table))
		if err != nil {
			t.Fatalf("read %s.%s: %v", c.Table, c.Column, err)
		}
		for rows.Next() {
			var id uuid.UUID
			var sealed []byte
			if err := rows.Scan(&id, &sealed); err != nil {
				t.Fatalf("read %s.%s: %v", c.Table, c.Column, err)
			}
			out[c.ContextPrefix+id.String()] = sealed
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("read %s.%s: %v", c.Table, c.Column, err)
		}
	}
	return out
}

func box(t *testing.T, keys ...[]byte) *secrets.Box {
	t.Helper()
	b, err := secrets.New(keys[0], keys[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// issueServerKeyCertificate creates a certificate whose key the server
// holds and returns its id.
func issueServerKeyCertificate(addr, name, issuerID string) (string, error) {
	c, _, err := try(addr, "POST", "/api/v1/certificates", fmt.Sprintf(
		`{"name":%q,"common_name":"%s.example.com","issuer_id":%q,"key_mode":"server"}`, name, name, issuerID), 201)
	if err != nil {
		return "", err
	}
	return c["id"].(string), nil
}

// exportKey exports the private key of a certificate's current version.
func exportKey(addr, certID string) ([]byte, error) {
	c, _, err := try(addr, "GET", "/api/v1/certificates/"+certID, "", 200)
	if err != nil {
		return nil, err
	}
	v, _ := c["current_version_id"].(string)
	if v == "" {
		return nil, fmt.Errorf("certificate %s has no current version (status %v)", certID, c["status"])
	}
	_, pemData, err := try(addr, "GET", "/api/v1/certificates/"+certID+"/versions/"+v+"/private-key", "", 200)
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(pemData, []byte("PRIVATE KEY")) {
		return nil, fmt.Errorf("export of %s holds no private key", certID)
	}
	return pemData, nil
}

func TestEncryptionKeyRotatesUnderTraffic(t *testing.T) {
	url := pgtest.NewDatabase(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	oldKey, newKey := bytes.Repeat([]byte{0x01}, secrets.KeySize), bytes.Repeat([]byte{0x02}, secrets.KeySize)
	b64 := base64.StdEncoding.EncodeToString
	vars := func(current []byte, previous ...[]byte) map[string]string {
		var prev []string
		for _, p := range previous {
			prev = append(prev, b64(p))
		}
		return map[string]string{"CERTCTL_DATABASE_URL": url, "CERTCTL_DATA_DIR": t.TempDir(),
			"CERTCTL_BOOTSTRAP_ADMIN_KEY": rotationAdminKey, "CERTCTL_ENCRYPTION_KEY": b64(current),
			"CERTCTL_ENCRYPTION_KEY_PREVIOUS": strings.Join(prev, ",")}
	}
	must := func(out map[string]any, _ []byte, err error) map[string]any {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	waitActive := func(n int) {
		t.Helper()
		waitFor(t, fmt.Sprintf("%d active certificates", n), 2*time.Minute, func() bool {
			var active, failed int
			if err := pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE status = 'active'),
				count(*) FILTER (WHERE status = 'failed') FROM managed_certificates`).Scan(&active, &failed); err != nil {
				t.Fatal(err)
			}
			if failed > 0 {
				t.Fatalf("%d certificates failed", failed)
			}
			return active == n
		})
	}

	// Before: secrets sealed with the old key, the only one.
	first := start(t, vars(oldKey))
	issuer := must(try(first.addr, "POST", "/api/v1/issuers",
		`{"name":"ca-before","type":"local","config":{"ca_key_type":"ecdsa-p256"}}`, 201))["id"].(string)
	const notifiersBefore, certsBefore = 12, 6
	for i := range notifiersBefore {
		must(try(first.addr, "POST", "/api/v1/notifiers", fmt.Sprintf(
			`{"name":"hook-before-%d","type":"webhook","config":{"url":"https://hooks.example.com/before/%d","secret":"s3cret-before-%d"}}`, i, i, i), 201))
	}
	var certs []string
	for i := range certsBefore {
		id, err := issueServerKeyCertificate(first.addr, fmt.Sprintf("before-%d", i), issuer)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, id)
	}
	waitActive(len(certs))
	keysBefore := map[string][]byte{}
	for _, id := range certs {
		k, err := exportKey(first.addr, id)
		if err != nil {
			t.Fatal(err)
		}
		keysBefore[id] = k
	}
	first.stop(t)
	oldBox := box(t, oldKey)
	plainBefore := map[string][]byte{}
	for ctx, sealed := range sealedValues(t, pool) {
		p, err := oldBox.Open(sealed, ctx)
		if err != nil {
			t.Fatalf("before rotation, %s does not open with the old key: %v", ctx, err)
		}
		plainBefore[ctx] = p
	}
	// issuers local and ca-before, the notifiers, a version per certificate
	if want := 2 + notifiersBefore + certsBefore; len(plainBefore) != want {
		t.Fatalf("%d sealed values before rotation, want %d", len(plainBefore), want)
	}

	// Two replicas take the new key, with the old one as previous, and
	// serve traffic that reads old secrets and writes new ones while both
	// run the rotation at once.
	replicas := []*server{start(t, vars(newKey, oldKey)), start(t, vars(newKey, oldKey))}
	var (
		done    atomic.Int64
		stop    = make(chan struct{})
		wg      sync.WaitGroup
		mu      sync.Mutex
		errs    []error
		created []string
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			addr := replicas[i%2].addr
			err := func() error {
				if _, _, err := try(addr, "POST", "/api/v1/notifiers", fmt.Sprintf(
					`{"name":"hook-during-%d","type":"webhook","config":{"url":"https://hooks.example.com/during/%d","secret":"s3cret-during-%d"}}`, i, i, i), 201); err != nil {
					return err
				}
				// Issuing opens ca-before's CA key, sealed with the old key
				// until the rotation reaches it.
				id, err := issueServerKeyCertificate(addr, fmt.Sprintf("during-%d", i), issuer)
				if err != nil {
					return err
				}
				mu.Lock()
				created = append(created, id)
				mu.Unlock()
				if _, err := exportKey(addr, certs[i%len(certs)]); err != nil {
					return err
				}
				_, _, err = try(addr, "GET", "/api/v1/notifiers?limit=100", "", 200)
				return err
			}()
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			done.Add(1)
		}
	}()
	waitFor(t, "traffic before the rotation", time.Minute, func() bool { return done.Load() >= 3 })
	reports := make([]map[string]any, len(replicas))
	var rwg sync.WaitGroup
	for i, r := range replicas {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			out, _, err := try(r.addr, "POST", "/api/v1/encryption-key/rotate", "", 200)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("rotate on replica %d: %w", i, err))
			}
			reports[i] = out
		}()
	}
	rwg.Wait()
	after := done.Load()
	waitFor(t, "traffic after the rotation", time.Minute, func() bool { return done.Load() >= after+3 })
	close(stop)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("while the key rotated: %v", err)
	}
	resealed := 0
	for i, r := range reports {
		if r["complete"] != true || len(r["failed"].([]any)) != 0 || r["key_id"] != box(t, newKey).KeyID() {
			t.Errorf("replica %d's rotation: %v", i, r)
		}
		resealed += int(r["resealed"].(float64))
	}
	// Each value sealed with the old key was re-sealed once, by one replica.
	if resealed != len(plainBefore) {
		t.Errorf("the replicas re-sealed %d values, want %d (those sealed with the old key)", resealed, len(plainBefore))
	}
	waitActive(len(certs) + len(created))
	// Again: nothing is left to do.
	again := must(try(replicas[0].addr, "POST", "/api/v1/encryption-key/rotate", "", 200))
	if again["resealed"] != 0.0 || again["complete"] != true {
		t.Errorf("a second rotation: %v, want nothing re-sealed", again)
	}
	for _, r := range replicas {
		r.stop(t)
	}

	// After: the new key alone opens everything, and nothing was lost.
	newBox := box(t, newKey)
	all := sealedValues(t, pool)
	for ctx, sealed := range all {
		p, err := newBox.Open(sealed, ctx)
		if err != nil {
			t.Errorf("after rotation, %s does not open with the new key alone: %v", ctx, err)
			continue
		}
		if !newBox.IsCurrent(sealed) {
			t.Errorf("after rotation, %s is not sealed with the new key", ctx)
		}
		if want, ok := plainBefore[ctx]; ok && !bytes.Equal(p, want) {
			t.Errorf("after rotation, %s holds something else than before", ctx)
		}
	}
	for ctx := range plainBefore {
		if _, ok := all[ctx]; !ok {
			t.Errorf("after rotation, %s is gone", ctx)
		}
	}
	// those, and the traffic's notifiers and versions
	if want := len(plainBefore) + 2*len(created); len(all) != want {
		t.Errorf("%d sealed values after rotation, want %d", len(all), want)
	}

	last := start(t, vars(newKey))
	for id, want := range keysBefore {
		k, err := exportKey(last.addr, id)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(k, want) {
			t.Errorf("certificate %s exports another key after rotation", id)
		}
	}
	for _, id := range created {
		if _, err := exportKey(last.addr, id); err != nil {
			t.Error(err)
		}
	}
	// ca-before's CA key (sealed) still signs.
	id, err := issueServerKeyCertificate(last.addr, "after", issuer)
	if err != nil {
		t.Fatal(err)
	}
	waitActive(len(certs) + len(created) + 1)
	if _, err := exportKey(last.addr, id); err != nil {
		t.Fatal(err)
	}
	if n := itemCount(t, last.addr, "/api/v1/notifiers?limit=200", rotationAdminKey); n != notifiersBefore+len(created) {
		t.Errorf("%d notifiers after rotation, want %d", n, notifiersBefore+len(created))
	}
	// A value no configured key opens is reported, left as it is, and
	// keeps the rotation from being complete.
	foreign := box(t, bytes.Repeat([]byte{0x03}, secrets.KeySize))
	var victim uuid.UUID
	if err := pool.QueryRow(context.Background(), `SELECT id FROM notifiers ORDER BY id LIMIT 1`).Scan(&victim); err != nil {
		t.Fatal(err)
	}
	alien := foreign.Seal([]byte(`{}`), "notifier:"+victim.String())
	if _, err := pool.Exec(context.Background(), `UPDATE notifiers SET config_secret = $2 WHERE id = $1`, victim, alien); err != nil {
		t.Fatal(err)
	}
	report := must(try(last.addr, "POST", "/api/v1/encryption-key/rotate", "", 200))
	if failed, _ := report["failed"].([]any); report["complete"] != false || len(failed) != 1 || failed[0] != "notifier:"+victim.String() {
		t.Errorf("rotation with a value sealed by an unknown key: %v", report)
	}
	if got := sealedValues(t, pool)["notifier:"+victim.String()]; !bytes.Equal(got, alien) {
		t.Error("a value that did not open was changed")
	}
	last.stop(t)

	// The old key alone is refused now.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	old := vars(oldKey)
	old["CERTCTL_LISTEN_ADDR"], old["CERTCTL_PLUGIN_DIR"] = "127.0.0.1:0", pluginDir
	if err := app.Run(ctx, nil, env(old), io.Discard, io.Discard, nil); err == nil || !strings.Contains(err.Error(), "encryption key") {
		t.Fatalf("a server with the old key alone started after the rotation: %v", err)
	}
}

// TestEncryptionKeyFileRotation follows docs/security.md with the key file:
// the new key on its first line and the old one after it, the rotation,
// then the new key alone.
func TestEncryptionKeyFileRotation(t *testing.T) {
	url := pgtest.NewDatabase(t)
	dir := t.TempDir()
	vars := func() map[string]string {
		return map[string]string{"CERTCTL_DATABASE_URL": url, "CERTCTL_DATA_DIR": dir,
			"CERTCTL_BOOTSTRAP_ADMIN_KEY": rotationAdminKey}
	}
	first := start(t, vars()) // creates encryption.key
	var local string
	for _, i := range must(t)(try(first.addr, "GET", "/api/v1/issuers", "", 200))["items"].([]any) {
		if i.(map[string]any)["name"] == "local" {
			local = i.(map[string]any)["id"].(string)
		}
	}
	id, err := issueServerKeyCertificate(first.addr, "file-key", local)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the certificate", time.Minute, func() bool { _, err := exportKey(first.addr, id); return err == nil })
	before, err := exportKey(first.addr, id)
	if err != nil {
		t.Fatal(err)
	}
	first.stop(t)

	path := filepath.Join(dir, secrets.KeyFileName)
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	newKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x09}, secrets.KeySize))
	if err := os.WriteFile(path, []byte(newKey+"\n"+string(old)), 0o600); err != nil {
		t.Fatal(err)
	}
	second := start(t, vars())
	report := must(t)(try(second.addr, "POST", "/api/v1/encryption-key/rotate", "", 200))
	if report["complete"] != true || report["resealed"] != 2.0 { // the local issuer's CA key and the version's key
		t.Fatalf("rotation: %v", report)
	}
	second.stop(t)

	if err := os.WriteFile(path, []byte(newKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	third := start(t, vars())
	after, err := exportKey(third.addr, id)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("the key exported after rotation differs")
	}
}

func must(t *testing.T) func(map[string]any, []byte, error) map[string]any {
	return func(out map[string]any, _ []byte, err error) map[string]any {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
}
