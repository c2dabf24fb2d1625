package slack

import (
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/novasre/nova/web"
)

// TestAppManifest checks deploy/slack-app-manifest.yaml parses and points
// at the routes this package serves, with the scopes the client needs.
func TestAppManifest(t *testing.T) {
	raw, err := os.ReadFile("../deploy/slack-app-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Display struct {
			Name string `yaml:"name"`
		} `yaml:"display_information"`
		Features struct {
			BotUser struct {
				DisplayName string `yaml:"display_name"`
			} `yaml:"bot_user"`
			SlashCommands []struct {
				Command, Description, URL string
				UsageHint                 string `yaml:"usage_hint"`
			} `yaml:"slash_commands"`
		} `yaml:"features"`
		OAuth struct {
			RedirectURLs []string `yaml:"redirect_urls"`
			Scopes       struct {
				Bot  []string `yaml:"bot"`
				User []string `yaml:"user"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			Interactivity struct {
				IsEnabled  bool   `yaml:"is_enabled"`
				RequestURL string `yaml:"request_url"`
			} `yaml:"interactivity"`
			SocketMode bool `yaml:"socket_mode_enabled"`
		} `yaml:"settings"`
	}
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("manifest is not valid YAML: %v", err)
	}
	if m.Display.Name != "Nova" || m.Features.BotUser.DisplayName == "" {
		t.Errorf("names: %+v", m.Display)
	}
	if len(m.Features.SlashCommands) != 1 {
		t.Fatalf("slash commands: %+v", m.Features.SlashCommands)
	}
	cmd := m.Features.SlashCommands[0]
	if cmd.Command != "/nova" || !strings.HasSuffix(cmd.URL, "/slack/commands") || cmd.Description == "" ||
		len(cmd.UsageHint) > 1000 || !strings.Contains(cmd.UsageHint, "feedback <incident> helpful|wrong") {
		t.Errorf("slash command: %+v", cmd)
	}
	if !m.Settings.Interactivity.IsEnabled || !strings.HasSuffix(m.Settings.Interactivity.RequestURL, "/slack/interactions") || m.Settings.SocketMode {
		t.Errorf("interactivity: %+v", m.Settings)
	}
	for _, scope := range []string{"commands", "chat:write", "channels:history", "groups:history", "users:read", "usergroups:read"} {
		if !slices.Contains(m.OAuth.Scopes.Bot, scope) {
			t.Errorf("missing bot scope %s", scope)
		}
	}
	// Sign in with Slack for the web pages: the callback, and only the
	// OpenID Connect user scopes.
	if len(m.OAuth.RedirectURLs) != 1 || !strings.HasSuffix(m.OAuth.RedirectURLs[0], web.CallbackPath) {
		t.Errorf("redirect_urls %q: want <public_url>%s", m.OAuth.RedirectURLs, web.CallbackPath)
	}
	if !slices.Equal(m.OAuth.Scopes.User, []string{"openid", "profile", "email"}) {
		t.Errorf("user scopes %q: want openid, profile, email", m.OAuth.Scopes.User)
	}
	for _, scope := range m.OAuth.Scopes.Bot {
		if strings.HasSuffix(scope, ":write") && scope != "chat:write" {
			t.Errorf("scope %s is more than Nova needs", scope)
		}
	}
}
