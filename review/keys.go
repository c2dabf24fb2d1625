package review

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// RotationDays is the age after which a credential is due for rotation.
const RotationDays = 90

// rotationSteps says how to rotate each kind of credential without
// downtime.
var rotationSteps = map[string]string{
	"pagerduty_token": "create a new API key for the bot user in PagerDuty (Integrations → API Access Keys), put it in " +
		"environments.ENV.pagerduty.token with token_created, SIGHUP Nova, check `nova doctor` or a new note, then revoke the old key",
	"pagerduty_webhook_secret": "add the subscription's new secret next to the old one in webhook_secrets (with created), SIGHUP, " +
		"rotate it in PagerDuty (or recreate the subscription), then remove the old secret and SIGHUP again",
	"slack_bot_token": "reinstall the Slack app (or rotate the token under OAuth & Permissions), put the new bot_token in the config, SIGHUP, then revoke the old one",
	"slack_signing_secret": "regenerate the signing secret under Basic Information in the Slack app, put it in slack.signing_secret and SIGHUP at once " +
		"(Slack signs with the new secret immediately)",
	"slack_app_token":    "generate a new app-level token (connections:write) under Basic Information, put it in slack.app_token, SIGHUP, then revoke the old one",
	"api_key":            "add a second api_keys entry with a new key and created date, SIGHUP, move its users to the new key, then remove the old entry",
	"action_secret":      "agree a new secret with the automation receiver, accept both there, set executor.secret and SIGHUP, then drop the old one at the receiver",
	"audit_key":          "move the key to audit.previous_keys with its id, set a new audit.key (`openssl rand -hex 32`), SIGHUP; old entries keep verifying",
	"audit_key_previous": "keep it while entries sealed with it must verify; it seals nothing new",
	"oidc_secret":        "create a new client secret at the identity provider, set it in the config, SIGHUP, then delete the old one",
}

func (b *builder) keyAge() {
	creds := slices.Clone(b.in.Credentials)
	sort.SliceStable(creds, func(i, j int) bool {
		if creds[i].Environment != creds[j].Environment {
			return creds[i].Environment < creds[j].Environment
		}
		return creds[i].Name < creds[j].Name
	})
	for _, c := range creds {
		subj := c.Name
		if c.Environment != "" {
			subj = c.Environment + ": " + c.Name
		}
		steps := rotationSteps[c.Kind]
		if steps == "" {
			steps = "replace it, reload (SIGHUP), then revoke the old one"
		}
		switch c.Status {
		case "due":
			b.add(SectionKeys, subj, fmt.Sprintf("%s, %d days old (created %s): due since %s", c.Kind, c.AgeDays, c.Created.Format("2006-01-02"),
				c.Created.Add(RotationDays*24*time.Hour).Format("2006-01-02")), RecRotate, steps)
		case "unknown":
			b.add(SectionKeys, subj, c.Kind+", age unknown: the config gives no created date", "",
				"add its created date (token_created, created, or {secret, created}) so its age is tracked")
		default:
			b.add(SectionKeys, subj, fmt.Sprintf("%s, %d days old: due on %s", c.Kind, c.AgeDays,
				c.Created.Add(RotationDays*24*time.Hour).Format("2006-01-02")), "", "")
		}
	}
}
