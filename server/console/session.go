package console

// Sign-in, sessions and CSRF protection.
//
// Signing in exchanges an API key for a session: the browser keeps a
// random session token in an HttpOnly cookie (never the key), PostgreSQL
// keeps the token's hash. Every POST must carry the session's CSRF token
// in a form field (or the X-CSRF-Token header); the sign-in form, which
// has no session yet, carries a token that must match a cookie of its own
// (double submit). SameSite=Lax cookies and the Origin check stop most
// forgeries before the token is even looked at.

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

const (
	sessionCookie = "certctl_session"
	signInCookie  = "certctl_signin" // the sign-in form's CSRF token
	flashCookie   = "certctl_flash"  // the message the next page shows once
	csrfField     = "csrf_token"
)

type sessionKey struct{}

// sessionFrom returns the request's session (set by c.session).
func sessionFrom(ctx context.Context) service.Session {
	s, _ := ctx.Value(sessionKey{}).(service.Session)
	return s
}

func (c *Console) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: c.secure || r.TLS != nil, SameSite: http.SameSiteLaxMode}
}

// session resolves the session cookie into the acting user, and refuses a
// POST whose CSRF token is missing or wrong. A request without a valid
// session goes to the sign-in page (GET) or is refused (anything else).
func (c *Console) session(next func(w http.ResponseWriter, r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var token string
		if ck, err := r.Cookie(sessionCookie); err == nil {
			token = ck.Value
		}
		s, err := c.svc.SessionActor(r.Context(), token)
		if err != nil {
			if core.ErrorCode(err) != core.EUNAUTHORIZED {
				c.fail(w, r, err)
				return
			}
			if token != "" {
				http.SetCookie(w, c.cookie(r, sessionCookie, "", -1))
			}
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				next := r.URL.RequestURI()
				target := "/signin"
				if next != "/" {
					target += "?next=" + url.QueryEscape(next)
				}
				http.Redirect(w, r, target, http.StatusSeeOther)
				return
			}
			c.render(w, r, http.StatusUnauthorized, "error", errorPage{Title: "Signed out",
				Message: "Your session has ended. Sign in again, then repeat what you were doing."})
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !sameOrigin(r) || !validToken(r, s.CSRFToken) {
				c.render(w, r, http.StatusForbidden, "error", errorPage{Title: "Request refused",
					Message: "This form was not sent from the page certctl gave you (its security token is missing or wrong). Reload the page and try again."})
				return
			}
		}
		ctx := core.WithActor(context.WithValue(r.Context(), sessionKey{}, s), s.Actor)
		next(w, r.WithContext(ctx))
	})
}

// sameOrigin reports whether a request's Origin header, when the browser
// sends one, names this server.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" && r.Header.Get("Sec-Fetch-Site") == "same-origin" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

func validToken(r *http.Request, want string) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue(csrfField)
	}
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

type signInData struct {
	Next  string
	Error string
}

// safeNext keeps a post-sign-in redirect on this site: a local path only.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	c.showSignIn(w, r, http.StatusOK, signInData{Next: safeNext(r.URL.Query().Get("next"))})
}

func (c *Console) showSignIn(w http.ResponseWriter, r *http.Request, status int, d signInData) {
	// Keep the token the browser has: a second sign-in page (another tab,
	// or a redirect for a missing file) must not invalidate the first form.
	token := newToken()
	if ck, err := r.Cookie(signInCookie); err == nil && len(ck.Value) == len(token) {
		token = ck.Value
	}
	http.SetCookie(w, c.cookie(r, signInCookie, token, 3600))
	ctx := context.WithValue(r.Context(), sessionKey{}, service.Session{CSRFToken: token})
	c.render(w, r.WithContext(ctx), status, "signin", d)
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	var want string
	if ck, err := r.Cookie(signInCookie); err == nil {
		want = ck.Value
	}
	if !sameOrigin(r) || !validToken(r, want) {
		c.render(w, r, http.StatusForbidden, "error", errorPage{Title: "Request refused",
			Message: "This sign-in form was not sent from the page certctl gave you. Open the sign-in page again."})
		return
	}
	next := safeNext(r.PostFormValue("next"))
	key := strings.TrimSpace(r.PostFormValue("api_key"))
	if key == "" {
		c.showSignIn(w, r, http.StatusUnprocessableEntity, signInData{Next: next, Error: "Enter an API key."})
		return
	}
	token, s, err := c.svc.SignIn(r.Context(), key)
	if err != nil {
		if core.ErrorCode(err) == core.EUNAUTHORIZED {
			c.showSignIn(w, r, http.StatusUnauthorized, signInData{Next: next,
				Error: "That API key was not accepted: " + core.ErrorMessage(err) + "."})
			return
		}
		c.fail(w, r, err)
		return
	}
	http.SetCookie(w, c.cookie(r, signInCookie, "", -1))
	http.SetCookie(w, c.cookie(r, sessionCookie, token, int(time.Until(s.ExpiresAt).Seconds())))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if err := c.svc.SignOut(r.Context(), ck.Value); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	http.SetCookie(w, c.cookie(r, sessionCookie, "", -1))
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}
