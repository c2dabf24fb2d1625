package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

const slackEnv = baseEnv + `    slack: { bot_token: xoxb-1, signing_secret: sign-1, admins: [U0ADMIN] }
`

func TestAuditKeyAndGlobalAdminsValidation(t *testing.T) {
	key := strings.Repeat("k", 32)
	cases := []struct{ name, doc, want string }{
		{"bad global admin", slackEnv + "global_admins: [alice]\n", `global_admins[0]: "alice" is not a Slack user or user-group id`},
		{"global admins without slack", baseEnv + "global_admins: [U0ROOT]\n", "global_admins[0]: no environment has a Slack app"},
		{"short key", baseEnv + "audit: { key: too-short-key-value }\n", "audit.key: is 19 bytes; an audit key must be at least 32"},
		{"bad key id", baseEnv + "audit: { key: " + key + ", key_id: 'has space' }\n", "audit.key_id"},
		{"previous without current", baseEnv + "audit: { previous_keys: [{ id: old, key: " + key + " }] }\n", "audit.previous_keys: set audit.key too"},
		{"previous without key", baseEnv + "audit: { key: " + key + ", previous_keys: [{ id: old }] }\n", "audit.previous_keys[0].key: required"},
		{"duplicate id", baseEnv + "audit: { key: " + key + ", key_id: a1, previous_keys: [{ id: a1, key: " + strings.Repeat("j", 32) + " }] }\n", "key id a1 is also used by audit"},
		{"same key twice", baseEnv + "audit: { key: " + key + ", key_id: a2, previous_keys: [{ id: a1, key: " + key + " }] }\n", "audit.previous_keys[0].key: is the same key as audit"},
		{"unknown audit field", baseEnv + "audit: { secret: x }\n", "audit.secret: unknown field (line 9); known fields: key, key_id, previous_keys"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(minimal(tc.doc)), lookupFrom(nil))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "too-short-key-value") || strings.Contains(err.Error(), key) {
				t.Fatalf("the error quotes an audit key: %v", err)
			}
		})
	}
}

func TestAuditKeysFromFiles(t *testing.T) {
	dir := t.TempDir()
	cur, old := strings.Repeat("c", 40), strings.Repeat("o", 40)
	for name, v := range map[string]string{"current": cur + "\n", "old": old} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	doc := minimal(slackEnv + "global_admins: [U0ROOT, S0SRE]\naudit:\n  key: { secret: \"${file:" + filepath.Join(dir, "current") +
		"}\", created: 2026-11-01 }\n  previous_keys:\n    - { key: \"${file:" + filepath.Join(dir, "old") + "}\" }\n")
	c, err := Parse([]byte(doc), lookupFrom(nil))
	if err != nil {
		t.Fatal(err)
	}
	current, all := c.AuditKeys()
	if current == nil || len(all) != 2 || all[0] != current {
		t.Fatalf("AuditKeys = %v, %v", current, all)
	}
	if current.ID() != nova.AuditKeyID([]byte(cur)) || all[1].ID() != nova.AuditKeyID([]byte(old)) {
		t.Errorf("derived ids %s %s", current.ID(), all[1].ID())
	}
	if len(c.GlobalAdmins) != 2 {
		t.Errorf("global_admins = %v", c.GlobalAdmins)
	}
	creds := c.Credentials(time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC))
	b, _ := json.Marshal(creds)
	if !strings.Contains(string(b), `"kind":"audit_key"`) || !strings.Contains(string(b), `"kind":"audit_key_previous"`) || strings.Contains(string(b), cur) {
		t.Errorf("credentials: %s", b)
	}
	secrets := strings.Join(c.AllSecrets(), "\n")
	if !strings.Contains(secrets, cur) || !strings.Contains(secrets, old) {
		t.Error("AllSecrets misses the audit keys (the logger would not scrub them)")
	}
	js, _ := json.Marshal(c)
	if strings.Contains(string(js), cur) {
		t.Error("the audit key prints")
	}
	// Without a key: the plain chain.
	plain, err := Parse([]byte(minimal(baseEnv)), lookupFrom(nil))
	if err != nil {
		t.Fatal(err)
	}
	if current, all := plain.AuditKeys(); current != nil || len(all) != 0 {
		t.Errorf("AuditKeys without a key = %v, %v", current, all)
	}
}
