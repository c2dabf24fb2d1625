package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
)

// API key scopes. admin includes read.
const (
	ScopeRead  = "read"
	ScopeAdmin = "admin"
)

// APIKey is one key allowed to call Nova's HTTP API.
type APIKey struct {
	Name  string
	Key   string
	Scope string
}

// Keys returns the current API keys; it is called per request so that keys
// added or removed by a configuration reload take effect at once.
type Keys func() []APIKey

// RequireKey wraps next so that it runs only for requests carrying
// "Authorization: Bearer <key>" with a key of at least scope. Keys are
// compared in constant time, each one, so timing does not reveal which
// key (or how much of one) matched. A client that keeps sending wrong keys
// is throttled by limiter (nil: no throttling) and gets 429 meanwhile.
func RequireKey(keys Keys, scope string, limiter *AuthLimiter, log logrus.FieldLogger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client := ClientAddress(r)
		if wait := limiter.Check(client); wait > 0 {
			writeThrottled(w, wait)
			return
		}
		token, ok := bearer(r.Header.Get("Authorization"))
		if !ok {
			limiter.Fail(client)
			w.Header().Set("WWW-Authenticate", `Bearer realm="nova"`)
			WriteError(w, nova.Errorf(nova.EUNAUTHORIZED, "missing API key: send Authorization: Bearer <key>"))
			return
		}
		key, found := matchKey(keys(), token)
		if !found {
			limiter.Fail(client)
			log.WithField("path", r.URL.Path).WithField("client", client).Warn("API request with an unknown key refused")
			w.Header().Set("WWW-Authenticate", `Bearer realm="nova", error="invalid_token"`)
			WriteError(w, nova.Errorf(nova.EUNAUTHORIZED, "invalid API key"))
			return
		}
		if scope == ScopeAdmin && key.Scope != ScopeAdmin {
			log.WithField("key", key.Name).WithField("path", r.URL.Path).Warn("API key lacks the admin scope")
			WriteError(w, nova.Errorf(nova.EFORBIDDEN, "API key %q has the %s scope; this needs admin", key.Name, key.Scope))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RequireBearer wraps next so that it runs only with "Authorization: Bearer
// <token>" where token is the current value of want (called per request, so
// a reload rotates it); an empty want lets every request through. Failures
// are throttled like API keys.
func RequireBearer(want func() string, limiter *AuthLimiter, log logrus.FieldLogger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		expected := want()
		if expected == "" {
			next.ServeHTTP(w, r)
			return
		}
		client := ClientAddress(r)
		if wait := limiter.Check(client); wait > 0 {
			writeThrottled(w, wait)
			return
		}
		token, _ := bearer(r.Header.Get("Authorization"))
		got, exp := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(expected))
		if token == "" || subtle.ConstantTimeCompare(got[:], exp[:]) != 1 {
			limiter.Fail(client)
			log.WithField("path", r.URL.Path).WithField("client", client).Warn("request without the right bearer token refused")
			w.Header().Set("WWW-Authenticate", `Bearer realm="nova-metrics"`)
			WriteError(w, nova.Errorf(nova.EUNAUTHORIZED, "this endpoint needs Authorization: Bearer <metrics.bearer_token>"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// matchKey compares digests so that every comparison has the same length
// whatever the keys' lengths.
func matchKey(keys []APIKey, token string) (APIKey, bool) {
	got := sha256.Sum256([]byte(token))
	var match APIKey
	found := 0
	for _, k := range keys {
		want := sha256.Sum256([]byte(k.Key))
		eq := subtle.ConstantTimeCompare(got[:], want[:])
		if eq == 1 {
			match = k
		}
		found |= eq
	}
	return match, found == 1
}
