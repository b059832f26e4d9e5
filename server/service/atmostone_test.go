package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/apitest"
)

// The "at most one" rules must hold when requests race: these tests release
// two conflicting requests together, many times, through the real HTTP API
// on a real database.

// raceRounds is how many times each race is run.
const raceRounds = 20

// reply is a response read whole by a goroutine that may not fail the test.
type reply struct {
	status int
	body   string
	err    error
}

// race sends two requests released together by a barrier and returns their
// replies in order.
func race(env *apitest.Env, reqs [2]func() (*http.Request, error)) [2]reply {
	var out [2]reply
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, mk := range reqs {
		req, err := mk()
		if err != nil {
			out[i].err = err
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = send(env, req)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

func send(env *apitest.Env, req *http.Request) reply {
	resp, err := env.Client.Do(req)
	if err != nil {
		return reply{err: fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{err: fmt.Errorf("%s %s: read body: %w", req.Method, req.URL.Path, err)}
	}
	return reply{status: resp.StatusCode, body: string(body)}
}

// request returns a maker of a request with an optional bearer key and JSON body.
func request(env *apitest.Env, method, path, key string, body any) func() (*http.Request, error) {
	return func() (*http.Request, error) {
		var rd io.Reader
		if body != nil {
			buf, err := json.Marshal(body)
			if err != nil {
				return nil, fmt.Errorf("encode body: %w", err)
			}
			rd = bytes.NewReader(buf)
		}
		req, err := http.NewRequestWithContext(context.Background(), method, env.URL+path, rd)
		if err != nil {
			return nil, fmt.Errorf("new request: %w", err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		return req, nil
	}
}

// usableAdmins counts the admin keys that are neither revoked nor expired.
func usableAdmins(t *testing.T, env *apitest.Env) int {
	t.Helper()
	var n int
	err := env.Pool.QueryRow(context.Background(), `SELECT count(*) FROM api_keys WHERE role = 'admin'
		AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`).Scan(&n)
	if err != nil {
		t.Fatalf("count usable admin keys: %v", err)
	}
	return n
}

// TestLastAdminKeyRace: two admin keys revoking each other at once must
// never both succeed; one admin key always remains and works.
func TestLastAdminKeyRace(t *testing.T) {
	env := apitest.Start(t, apitest.Options{})
	survivor, survivorID := env.AdminKey, ""
	conflicts := 0
	for round := range raceRounds {
		// A fresh pair of admin keys, each used once (so that the race
		// itself writes nothing but the revocations), then the previous
		// survivor revoked: X and Y are the only admin keys.
		var x, y api.APIKey
		env.MustDo(t, "POST", "/api/v1/api-keys", survivor, api.APIKeyRequest{Name: fmt.Sprintf("x%d", round), Role: "admin"}, 201).Decode(t, &x)
		env.MustDo(t, "POST", "/api/v1/api-keys", survivor, api.APIKeyRequest{Name: fmt.Sprintf("y%d", round), Role: "admin"}, 201).Decode(t, &y)
		env.MustDo(t, "GET", "/api/v1/api-keys/"+y.ID, x.Key, nil, 200)
		env.MustDo(t, "GET", "/api/v1/api-keys/"+x.ID, y.Key, nil, 200)
		if survivorID != "" {
			env.MustDo(t, "DELETE", "/api/v1/api-keys/"+survivorID, x.Key, nil, 200)
		} else {
			var all api.List[api.APIKey]
			env.MustDo(t, "GET", "/api/v1/api-keys", x.Key, nil, 200).Decode(t, &all)
			for _, k := range all.Items {
				if k.ID != x.ID && k.ID != y.ID {
					env.MustDo(t, "DELETE", "/api/v1/api-keys/"+k.ID, x.Key, nil, 200)
				}
			}
		}
		if n := usableAdmins(t, env); n != 2 {
			t.Fatalf("round %d: %d usable admin keys before the race, want 2", round, n)
		}

		r := race(env, [2]func() (*http.Request, error){
			request(env, "DELETE", "/api/v1/api-keys/"+y.ID, x.Key, nil),
			request(env, "DELETE", "/api/v1/api-keys/"+x.ID, y.Key, nil),
		})
		won := -1
		for i, rp := range r {
			switch {
			case rp.err != nil:
				t.Fatalf("round %d: %v", round, rp.err)
			case rp.status == 200:
				if won >= 0 {
					t.Fatalf("round %d: both revocations succeeded; no admin key is left", round)
				}
				won = i
			case rp.status == 409:
				if !strings.Contains(rp.body, "last usable admin key") {
					t.Errorf("round %d: 409 without a clear message: %s", round, rp.body)
				}
				conflicts++
			case rp.status == 401 && strings.Contains(rp.body, "revoked"):
				// Its key was revoked before it was read: no race this round.
			default:
				t.Fatalf("round %d: revocation answered %d: %s", round, rp.status, rp.body)
			}
		}
		if won < 0 {
			t.Fatalf("round %d: neither revocation succeeded: %+v", round, r)
		}
		survivor, survivorID = x.Key, x.ID
		if won == 1 {
			survivor, survivorID = y.Key, y.ID
		}
		if n := usableAdmins(t, env); n != 1 {
			t.Fatalf("round %d: %d usable admin keys after the race, want 1", round, n)
		}
		env.MustDo(t, "GET", "/api/v1/api-keys", survivor, nil, 200)
	}
	t.Logf("%d of %d rounds raced to the guard (409); in the others the loser's key was already revoked (401)", conflicts, raceRounds)
}

// TestEnrollmentTokenRace: two agents enrolling with one single-use token at
// once: exactly one gets an agent.
func TestEnrollmentTokenRace(t *testing.T) {
	env := apitest.Start(t, apitest.Options{})
	for round := range raceRounds {
		var tok api.EnrollmentToken
		env.MustDo(t, "POST", "/api/v1/enrollment-tokens", env.AdminKey, api.EnrollmentTokenRequest{TTL: "1h"}, 201).Decode(t, &tok)
		before := env.Count(t, "agents")
		r := race(env, [2]func() (*http.Request, error){
			request(env, "POST", "/api/v1/agent/enroll", "", api.AgentEnrollRequest{Token: tok.Token, Name: fmt.Sprintf("a%d", round)}),
			request(env, "POST", "/api/v1/agent/enroll", "", api.AgentEnrollRequest{Token: tok.Token, Name: fmt.Sprintf("b%d", round)}),
		})
		created := 0
		for _, rp := range r {
			switch {
			case rp.err != nil:
				t.Fatalf("round %d: %v", round, rp.err)
			case rp.status == 201:
				created++
			case rp.status == 401 && strings.Contains(rp.body, "already used"):
			default:
				t.Fatalf("round %d: enrollment answered %d: %s", round, rp.status, rp.body)
			}
		}
		if created != 1 {
			t.Fatalf("round %d: %d enrollments succeeded with one single-use token, want 1", round, created)
		}
		if n := env.Count(t, "agents") - before; n != 1 {
			t.Fatalf("round %d: %d agents created, want 1", round, n)
		}
		var got api.EnrollmentToken
		env.MustDo(t, "GET", "/api/v1/enrollment-tokens/"+tok.ID, env.AdminKey, nil, 200).Decode(t, &got)
		if got.UsedAt == nil || got.UsedByAgentID == nil {
			t.Fatalf("round %d: token after the race = %+v, want used by the enrolled agent", round, got)
		}
	}
}
