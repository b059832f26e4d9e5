// This file gives each application database an owner role that is not a
// superuser, so that the application's connections cannot reach the files
// and programs of the machine.

package pgembed

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// CreateDatabase makes sure database name exists and that it, and everything
// in it, belongs to a role of the same name, and returns a URL that logs in
// as that role over the cluster's socket. The role may log in and owns its
// database, nothing more: it is no superuser and is granted none of
// pg_read_server_files, pg_write_server_files or pg_execute_server_program,
// so a session of it cannot read the server's files or process environments
// (pg_read_binary_file, COPY ... FROM PROGRAM, lo_import). The role gets a new
// random password at every call; the password is kept nowhere but in the
// returned URL.
//
// A database created by an earlier version, owned with its objects by the
// superuser, is handed over to the role.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) (string, error) {
	password := rand.Text()
	verifier, err := scramVerifier(password)
	if err != nil {
		return "", fmt.Errorf("pgembed: create database %q: %w", name, err)
	}
	conn, err := pgx.Connect(ctx, c.ConnString("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgembed: create database %q: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx)) // ending the session frees the lock
	// Concurrent calls for one name take turns.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtext('pgembed.CreateDatabase'), hashtext($1))", name); err != nil {
		return "", fmt.Errorf("pgembed: create database %q: %w", name, err)
	}
	if err := ensureOwner(ctx, conn, name, verifier); err != nil {
		return "", fmt.Errorf("pgembed: create database %q: %w", name, err)
	}
	if err := c.handOver(ctx, name); err != nil {
		return "", fmt.Errorf("pgembed: create database %q: hand its objects to role %q: %w", name, name, err)
	}
	return c.connString(name, password, name), nil
}

// ensureOwner creates or updates the role name with password verifier and
// creates database name owned by it, or gives the existing one to it. conn
// is a superuser's.
func ensureOwner(ctx context.Context, conn *pgx.Conn, name, verifier string) error {
	role := pgx.Identifier{name}.Sanitize()
	// The attributes are spelled out so that an existing role loses any
	// privilege it was given by hand. Only the verifier reaches the server
	// (and, with statement logging on, its log), never the password.
	attrs := "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD " + quoteLiteral(verifier)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	stmt := "CREATE ROLE " + role + " " + attrs
	if exists {
		stmt = "ALTER ROLE " + role + " " + attrs
	}
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return err
	}
	// Memberships could give the role what its attributes do not (for
	// example pg_read_server_files); it needs none.
	rows, err := conn.Query(ctx, `SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
		JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1`, name)
	if err != nil {
		return err
	}
	groups, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, g := range groups {
		if _, err := conn.Exec(ctx, "REVOKE "+pgx.Identifier{g}.Sanitize()+" FROM "+role); err != nil {
			return err
		}
	}

	var owner string
	err = conn.QueryRow(ctx, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", name).Scan(&owner)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		_, err = conn.Exec(ctx, "CREATE DATABASE "+role+" OWNER "+role)
		return err
	case err != nil:
		return err
	case owner != name:
		_, err = conn.Exec(ctx, "ALTER DATABASE "+role+" OWNER TO "+role)
		return err
	}
	return nil
}

// handOverSQL gives the role named by the placeholder every relation,
// routine and type in database's own schemas that another role owns. Tables
// come first: their indexes, triggers and the sequences of their serial and
// identity columns follow them.
const handOverSQL = `DO $$
DECLARE
	owner text := %s;
	r record;
BEGIN
	FOR r IN SELECT n.nspname FROM pg_namespace n
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%%'
		AND pg_get_userbyid(n.nspowner) NOT IN (owner, 'pg_database_owner')
	LOOP
		EXECUTE format('ALTER SCHEMA %%I OWNER TO %%I', r.nspname, owner);
	END LOOP;
	FOR r IN SELECT c.oid::regclass AS obj, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%%'
		AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND pg_get_userbyid(c.relowner) <> owner
	LOOP
		EXECUTE format('ALTER %%s %%s OWNER TO %%I',
			CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
			r.obj, owner);
	END LOOP;
	FOR r IN SELECT c.oid::regclass AS obj FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%%'
		AND c.relkind = 'S' AND pg_get_userbyid(c.relowner) <> owner
	LOOP
		EXECUTE format('ALTER SEQUENCE %%s OWNER TO %%I', r.obj, owner);
	END LOOP;
	FOR r IN SELECT p.oid::regprocedure AS obj FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%%'
		AND pg_get_userbyid(p.proowner) <> owner
		AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
	LOOP
		EXECUTE format('ALTER ROUTINE %%s OWNER TO %%I', r.obj, owner);
	END LOOP;
	FOR r IN SELECT t.oid::regtype AS obj, t.typtype FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%%'
		AND t.typtype IN ('e', 'd', 'r') AND pg_get_userbyid(t.typowner) <> owner
	LOOP
		EXECUTE format('ALTER %%s %%s OWNER TO %%I', CASE r.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, r.obj, owner);
	END LOOP;
END
$$`

// handOver gives the objects of database name that another role (the
// superuser, in databases created before owner roles existed) owns to the
// role name. It does nothing when the role owns them all already.
func (c *Cluster) handOver(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.ConnString(name))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, fmt.Sprintf(handOverSQL, quoteLiteral(name)))
	return err
}

// connString returns a URL for database dbname as user over the socket.
func (c *Cluster) connString(user, password, dbname string) string {
	u := url.URL{
		Scheme: "postgres",
		User:   url.UserPassword(user, password),
		Path:   "/" + dbname,
		RawQuery: url.Values{
			"host":    {c.socketDir},
			"port":    {strconv.Itoa(socketPort)},
			"sslmode": {"disable"},
		}.Encode(),
	}
	return u.String()
}

// quoteLiteral quotes s as an SQL string literal (standard_conforming_strings
// is on, PostgreSQL's default since 9.1).
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// scramIterations is PostgreSQL's default (scram_iterations).
const scramIterations = 4096

// scramVerifier returns what PostgreSQL stores for a SCRAM-SHA-256 password
// (RFC 5803's format), so that the password itself never has to be sent to
// the server. password must be ASCII without control characters, which makes
// SASLprep a no-op.
func scramVerifier(password string) (string, error) {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	salted, err := pbkdf2.Key(sha256.New, password, salt, scramIterations, sha256.Size)
	if err != nil {
		return "", fmt.Errorf("scram verifier: %w", err)
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	stored := sha256.Sum256(mac(salted, "Client Key"))
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", scramIterations, b64(salt), b64(stored[:]), b64(mac(salted, "Server Key"))), nil
}
