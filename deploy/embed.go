// Package deploy holds what Nova is deployed with: the example
// configuration, the Slack app manifest (embedded for `nova setup slack`),
// the Helm chart, the systemd unit, the container image, dashboards and
// alert rules. Its tests check the chart, unit and rules with the tools
// that will consume them.
package deploy

import _ "embed"

// SlackAppManifest is slack-app-manifest.yaml, with nova.example.com
// standing for Nova's public host.
//
//go:embed slack-app-manifest.yaml
var SlackAppManifest []byte

// ManifestPlaceholderURL is the public URL the shipped manifest names.
const ManifestPlaceholderURL = "https://nova.example.com"
