package app_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/certctl/certctl/server/pgtest"
)

// The server serves the console at / beside the API, and its session
// cookie is Secure when the public URL is https (a TLS-terminating proxy
// in front), even though the request itself arrives over plain HTTP.
func TestServerServesConsole(t *testing.T) {
	for _, tc := range []struct {
		publicURL string
		secure    bool
	}{{"", false}, {"https://certctl.example.com", true}} {
		preset := "cck_preset-admin-key-for-console-0123456789"
		vars := map[string]string{"CERTCTL_DATABASE_URL": pgtest.NewDatabase(t), "CERTCTL_DATA_DIR": t.TempDir(),
			"CERTCTL_BOOTSTRAP_ADMIN_KEY": preset}
		if tc.publicURL != "" {
			vars["CERTCTL_PUBLIC_URL"] = tc.publicURL
		}
		s := start(t, vars)
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		base := "http://" + s.addr
		resp, err := c.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin" {
			t.Fatalf("GET /: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, err = c.Get(base + "/signin")
		if err != nil {
			t.Fatal(err)
		}
		var body strings.Builder
		_, err = io.Copy(&body, resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("no CSP on the sign-in page")
		}
		m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(body.String())
		if m == nil {
			t.Fatalf("sign-in page without a token:\n%s", body.String())
		}
		resp, err = c.PostForm(base+"/signin", url.Values{"csrf_token": {m[1]}, "api_key": {preset}, "next": {"/"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var session *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == "certctl_session" {
				session = ck
			}
		}
		if resp.StatusCode != http.StatusSeeOther || session == nil || session.Secure != tc.secure {
			t.Fatalf("public URL %q: sign in %d, cookie %+v, want Secure %v", tc.publicURL, resp.StatusCode, session, tc.secure)
		}
		// The API is unchanged beside it.
		call(t, s.addr, "GET", "/api/v1/api-keys", preset, "", 200)
		s.stop(t)
	}
}
