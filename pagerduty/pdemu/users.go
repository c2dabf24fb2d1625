package pdemu

import (
	"net/http"
	"sort"
	"strings"
)

// listUsers serves GET /users: the users of the token's environment, with
// PagerDuty's query filter (a case-insensitive match on name or email).
func (e *Emulator) listUsers(w http.ResponseWriter, r *http.Request) {
	if !e.checkQuery(w, r, "query", "limit", "offset", "total") {
		return
	}
	offset, limit, f := page(r, 25)
	if f != nil {
		f.write(w)
		return
	}
	q := strings.ToLower(r.URL.Query().Get("query"))
	env := callOf(r).env
	e.mu.Lock()
	defer e.mu.Unlock()
	var users []*user
	for _, u := range e.users {
		if u.env == env && (q == "" || strings.Contains(strings.ToLower(u.email), q) || strings.Contains(strings.ToLower(u.name), q)) {
			users = append(users, u)
		}
	}
	sort.Slice(users, func(i, j int) bool {
		return users[i].name < users[j].name || users[i].name == users[j].name && users[i].id < users[j].id
	})
	out := make([]obj, 0, len(users))
	for _, u := range users {
		out = append(out, obj{"id": u.id, "type": "user", "summary": u.name, "name": u.name, "email": u.email,
			"self": apiURL("users", u.id), "html_url": webURL("users", u.id)})
	}
	writeJSON(w, http.StatusOK, paged(r, "users", out, offset, limit))
}
