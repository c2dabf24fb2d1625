package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/mux"
)

// BenchmarkPageRender is the web side of the incident and suggestion pages
// and the list: session check, template, escaping (the store side is
// cmd/nova's BenchmarkPages*).
func BenchmarkPageRender(b *testing.B) {
	cfg := SignInConfig{Issuer: "https://slack.com", ClientID: "1.2", ClientSecret: "s", TeamID: testTeam, RedirectURL: "https://nova.test" + CallbackPath,
		SessionKey: []byte("session-key-0123456789-0123456789-abcdef"), SessionTTL: time.Hour}
	pg, err := NewPages(PagesConfig{Data: fixture("x"), SignIn: func() SignInConfig { return cfg }, Log: quiet(), Decider: &fakeDecider{}})
	if err != nil {
		b.Fatal(err)
	}
	r := mux.NewRouter()
	pg.Register(r)
	cookie, _ := newSigner(cfg.SessionKey, "session").seal(Session{UserID: "U0ALICE", TeamID: testTeam, CSRF: "c", Expires: time.Now().Add(time.Hour).Unix()})
	for _, path := range []string{"/incidents/Q1", "/incidents/Q1/suggestions/s1", "/incidents"} {
		b.Run(path, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
				w := httptest.NewRecorder()
				r.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("%s: %d", path, w.Code)
				}
			}
		})
	}
}
