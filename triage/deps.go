package triage

import (
	"regexp"
	"strings"

	"github.com/novasre/nova"
)

// Outside dependencies as causes in their own right: a third-party host the
// alerts name as failing, a provider's status page or health event, an
// incident on a service this one depends on. Each forms a dependency (or,
// for a cloud platform's zone, network or power, infrastructure) hypothesis
// that competes with a coincident change on equal terms.

// provider is a well-known outside provider, recognised by the hosts it
// serves from and the names its status pages and headers use.
type provider struct {
	name     string
	suffixes []string
	names    []string
}

// providers is data: adding one is a line. Names are matched as words in
// status alerts and CDN headers only, never in free text.
var providers = []provider{
	{"AWS", []string{"amazonaws.com", "aws.amazon.com", "cloudfront.net"}, []string{"aws", "amazon"}},
	{"Google Cloud", []string{"googleapis.com", "gcr.io", "pkg.dev", "appspot.com"}, []string{"google cloud", "gcp"}},
	{"Google", []string{"google.com", "gstatic.com", "googleusercontent.com"}, []string{"google", "google workspace"}},
	{"Microsoft Azure", []string{"windows.net", "azure.com", "microsoftonline.com", "azurewebsites.net", "azureedge.net", "azure-api.net"}, []string{"azure", "microsoft"}},
	{"Cloudflare", []string{"cloudflare.com", "cloudflare.net", "cloudflarestorage.com"}, []string{"cloudflare"}},
	{"Fastly", []string{"fastly.net", "fastlylb.net", "fastly.com"}, []string{"fastly", "varnish"}},
	{"Akamai", []string{"akam.net", "akamai.net", "akamaiedge.net", "edgekey.net", "edgesuite.net"}, []string{"akamai"}},
	{"Dyn", []string{"dynect.net", "dyn.com"}, []string{"dyn"}},
	{"Stripe", []string{"stripe.com"}, []string{"stripe"}},
	{"Facebook", []string{"facebook.com", "fbcdn.net", "facebook.net"}, []string{"facebook", "meta"}},
	{"Docker Hub", []string{"docker.io", "docker.com"}, []string{"docker", "docker hub"}},
	{"Quay.io", []string{"quay.io"}, []string{"quay", "quay io"}},
	{"npm", []string{"npmjs.org", "npmjs.com"}, []string{"npm"}},
	{"GitHub", []string{"github.com", "githubusercontent.com", "ghcr.io"}, []string{"github"}},
	{"Twilio", []string{"twilio.com"}, []string{"twilio"}},
	{"SendGrid", []string{"sendgrid.net", "sendgrid.com"}, []string{"sendgrid"}},
	{"Auth0", []string{"auth0.com"}, []string{"auth0"}},
	{"Okta", []string{"okta.com", "oktapreview.com"}, []string{"okta"}},
	{"PayPal", []string{"paypal.com", "braintreegateway.com"}, []string{"paypal", "braintree"}},
	{"Adyen", []string{"adyen.com"}, []string{"adyen"}},
	{"Slack", []string{"slack.com"}, []string{"slack"}},
	{"Datadog", []string{"datadoghq.com", "datadoghq.eu"}, []string{"datadog"}},
	{"CrowdStrike", []string{"crowdstrike.com"}, []string{"crowdstrike"}},
	{"Let's Encrypt", []string{"letsencrypt.org", "lencr.org"}, []string{"let s encrypt", "letsencrypt"}},
	{"Atlassian", []string{"atlassian.net", "atlassian.com"}, []string{"atlassian"}},
	{"Level 3", nil, []string{"level 3", "centurylink", "lumen", "as3356"}},
}

// hostPattern finds host names; publicSuffix keeps those on public domains
// (not "svc.cluster.local", not "java.net.UnknownHostException").
var (
	hostPattern  = regexp.MustCompile(`\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}\b`)
	publicSuffix = toSet(`com net org io dev app cloud co us uk de jp fr es br cn info biz ai so sh me tv eu nl se ch it au ca in`)
)

// upstreamKeys name details that hold what the service failed to reach.
var upstreamKeys = toSet("upstream upstream_host failing_upstream upstream_hosts idp registry endpoint nameservers target_host dependency provider transit_provider")

// providerByHost returns the provider serving host, if known.
func providerByHost(host string) (string, bool) {
	for _, p := range providers {
		for _, s := range p.suffixes {
			if host == s || strings.HasSuffix(host, "."+s) {
				return p.name, true
			}
		}
	}
	return "", false
}

// sdkMarks are how cloud and payment SDKs sign their errors, whatever the
// language: an error raised by one of them is the provider's answer, not
// the service's own failure.
var sdkMarks = []struct{ mark, provider string }{
	{"botocore", "AWS"}, {"boto3", "AWS"}, {"aws-sdk", "AWS"}, {"awssdk", "AWS"}, {"amazonserviceexception", "AWS"},
	{"amazons3exception", "AWS"}, {"amazondynamodbexception", "AWS"}, {"software.amazon.awssdk", "AWS"}, {"aws.amazon", "AWS"},
	{"googleapi:", "Google Cloud"}, {"google.api_core.exceptions", "Google Cloud"}, {"com.google.cloud", "Google Cloud"},
	{"azure.core.exceptions", "Microsoft Azure"}, {"azure.requestfailedexception", "Microsoft Azure"}, {"microsoft.azure", "Microsoft Azure"},
	{"stripe.error", "Stripe"}, {"stripeexception", "Stripe"}, {"stripe::", "Stripe"}, {"twilio.base.exceptions", "Twilio"},
	{"twilioexception", "Twilio"},
}

// publicResolvers are the well-known public DNS resolvers by address.
var publicResolvers = map[string]string{
	"1.1.1.1": "Cloudflare", "1.0.0.1": "Cloudflare", "8.8.8.8": "Google", "8.8.4.4": "Google",
	"9.9.9.9": "Quad9", "149.112.112.112": "Quad9", "208.67.222.222": "OpenDNS", "208.67.220.220": "OpenDNS",
}

var ipPattern = regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`)

// healthyAnswer marks a detail where a resolver answered.
var healthyAnswer = regexp.MustCompile(`(?i)\bnoerror\b|\bresolves?\b|\bresolved\b|\bok\b|\bhealthy\b`)

// failingResolver returns the public resolver an alert shows failing while
// another answers, or that alone is named in a failing DNS alert: one
// provider's resolver is then the outside dependency, not DNS as such.
// Several providers' resolvers failing alike point at the zone, not at any
// of them.
func failingResolver(a *nova.Alert, text string) (ip, provider string, ok bool) {
	if !failingWords.MatchString(text) && !strings.Contains(text, "no servers could be reached") {
		return "", "", false
	}
	healthy := map[string]bool{}
	var mentioned []string
	for _, k := range sortedKeys(a.Details) {
		v := a.Details[k]
		for _, addr := range ipPattern.FindAllString(v, 8) {
			p, known := publicResolvers[addr]
			if !known {
				continue
			}
			mentioned = append(mentioned, addr)
			if healthyAnswer.MatchString(v) && !failingWords.MatchString(strings.ToLower(v)) && !strings.Contains(strings.ToLower(v), "servfail") {
				healthy[p] = true
			}
		}
	}
	failing := map[string]string{}
	for _, addr := range mentioned {
		if p := publicResolvers[addr]; !healthy[p] {
			if _, seen := failing[p]; !seen {
				failing[p] = addr
			}
		}
	}
	if len(failing) != 1 {
		return "", "", false
	}
	for p, addr := range failing {
		return addr, p, true
	}
	return "", "", false
}

// requestHost finds the host of a request in an error message: the URL of
// an HTTP client's failed call, a lookup or a connection attempt.
var requestHost = regexp.MustCompile(`(?:get|post|put|patch|delete|head) "?https?://([a-z0-9.-]+)|\blookup ([a-z0-9.-]+\.[a-z]{2,})(?: on [^:]+)?: no such host|connecting to ([a-z0-9.-]+\.[a-z]{2,})`)

// failingWords mark an alert that says something failed to answer: a host
// or SDK it names is then the thing failing.
var failingWords = regexp.MustCompile(`\b(?:5\d\d|unavailable|serviceunavailable|timed? ?out|timeout|refused|reset by peer|unreachable|internalerror|internal server error|bad gateway|slowdown|throttl\w*|max retries|backenderror|no such host|nxdomain|servfail|could not resolve|failed|failing)\b`)

// providerBySDK returns the provider whose SDK raised an error in text.
func providerBySDK(lower string) (string, bool) {
	for _, m := range sdkMarks {
		if strings.Contains(lower, m.mark) {
			return m.provider, true
		}
	}
	return "", false
}

// providerByName finds a provider named in text (a status alert, a header).
func providerByName(text string) (string, bool) {
	w := " " + normWords(text) + " "
	for _, p := range providers {
		for _, n := range p.names {
			if strings.Contains(w, " "+n+" ") {
				return p.name, true
			}
		}
	}
	return "", false
}

// outsideHost is an outside host an alert names.
type outsideHost struct {
	host, provider string
	alert          *nova.Alert
	// upstream is set when a detail names it as the thing that failed.
	upstream bool
}

// externalHosts lists the outside hosts the alerts name, first seen first,
// leaving out hosts that carry the service's own name.
func externalHosts(alerts []nova.Alert, own map[string]bool) []outsideHost {
	var out []outsideHost
	seen := map[string]bool{}
	add := func(h string, a *nova.Alert, upstream bool) {
		h = strings.TrimSuffix(strings.ToLower(h), ".")
		if seen[h] {
			for i := range out {
				if out[i].host == h && upstream {
					out[i].upstream = true
				}
			}
			return
		}
		labels := strings.Split(h, ".")
		tld := labels[len(labels)-1]
		p, known := providerByHost(h)
		// A host named in prose is often the service's own endpoint (the URL
		// a check probes); only well-known providers count there. A detail
		// that names the upstream counts whatever the host.
		if !known && !(upstream && (publicSuffix[tld] || tld == "example")) {
			return
		}
		for _, l := range labels[:len(labels)-1] {
			for _, part := range strings.Split(l, "-") {
				if len(part) >= 4 && own[stem(part)] {
					return // the service's own host
				}
			}
		}
		seen[h] = true
		out = append(out, outsideHost{host: h, provider: p, alert: a, upstream: upstream})
	}
	for i := range alerts {
		a := &alerts[i]
		// Status codes or error counts by upstream host, the host in the
		// key: the host with the most is the one failing.
		var byKey string
		best := 0.0
		for _, k := range sortedKeys(a.Details) {
			hosts := hostPattern.FindAllString(strings.ToLower(k), 2)
			if len(hosts) == 0 {
				continue
			}
			if f, _, _, _, ok := parseNumber(a.Details[k]); ok && f > best {
				byKey, best = hosts[0], f
			}
		}
		if byKey != "" {
			add(byKey, a, true)
		}
		// A well-known provider's host in an alert that says something
		// failed to answer is what failed, as much as one a detail names as
		// the upstream; so is the provider whose SDK raised the error.
		text := strings.ToLower(alertText(*a))
		failing := failingWords.MatchString(text)
		for _, k := range sortedKeys(a.Details) {
			up := upstreamKeys[strings.ToLower(k)] || hasWord(detailKeyWords(k), "upstream", "idp", "registry", "nameservers", "endpoint")
			hosts := hostPattern.FindAllString(strings.ToLower(a.Details[k]), 8)
			for _, h := range hosts {
				_, known := providerByHost(strings.TrimSuffix(h, "."))
				add(h, a, up || (failing && known))
			}
			if up && len(hosts) == 0 {
				if p, ok := providerByName(a.Details[k]); ok && !seen["provider:"+p] {
					seen["provider:"+p] = true
					out = append(out, outsideHost{provider: p, alert: a, upstream: true})
				}
			}
		}
		for _, h := range hostPattern.FindAllString(strings.ToLower(a.Summary), 4) {
			add(h, a, false)
		}
		if failing {
			if p, ok := providerBySDK(text); ok && !seen["provider:"+p] && !providerSeen(out, p) {
				seen["provider:"+p] = true
				out = append(out, outsideHost{provider: p, alert: a, upstream: true})
			}
		}
		// The host of a request that failed ("Post \"https://host/...\":
		// dial tcp: lookup host: no such host") is what failed to answer.
		if failing {
			for _, k := range sortedKeys(a.Details) {
				for _, m := range requestHost.FindAllStringSubmatch(strings.ToLower(a.Details[k]), 4) {
					add(firstNonEmpty(m[1], m[2], m[3]), a, true)
				}
			}
		}
		if ip, p, ok := failingResolver(a, text); ok && !seen[ip] {
			seen[ip] = true
			out = append(out, outsideHost{host: ip, provider: p + " DNS", alert: a, upstream: true})
		}
	}
	return out
}

// providerSeen reports whether a host of provider p is already listed.
func providerSeen(hosts []outsideHost, p string) bool {
	for _, h := range hosts {
		if h.provider == p {
			return true
		}
	}
	return false
}

// providerEvent is a status-page or cloud health alert about a provider.
type providerEvent struct {
	alert    *nova.Alert
	provider string
	// infra marks events about the platform itself (a zone, the network,
	// power, compute): infrastructure rather than a failing dependency.
	infra bool
}

var statusSources = toSet("statuspage status status-page statuspage.io status.io statusgator instatus aws.health aws_health health service-health servicehealth gcp-status azure-status")

// statusPhrases are what status pages say about a component.
var statusPhrases = []string{"major outage", "partial outage", "degraded performance", "service disruption", "elevated error rates",
	"is investigating", "are investigating", "investigating issues", "experiencing issues", "service outage"}

// infraEventWords mark provider events about the platform rather than a
// service consumed through an API.
var infraEventWords = toSet("ec2 ebs vpc elb network networking connectivity zone availability region cooling power datacenter instances terminated compute " +
	"vm vms gce multiple")

// platforms are the providers whose events can be about the platform the
// service runs on (a zone, the network, power): infrastructure. Every other
// provider (a CDN, a DDoS scrubber, a payment API) is a dependency, whatever
// its notice says about connectivity.
var platforms = []string{"AWS", "Google Cloud", "Microsoft Azure", "Oracle Cloud", "Alibaba Cloud", "IBM Cloud", "DigitalOcean", "Hetzner", "OVHcloud", "Linode"}

func isPlatform(p string) bool {
	for _, n := range platforms {
		if strings.EqualFold(p, n) {
			return true
		}
	}
	return false
}

// eventPlaceKeys are the details of a provider event that say where and
// what it affects.
var eventPlaceKeys = toSet("component components location region région region_name regions impactedservices impacted_services services affected_services summary description product")

// readProviderEvent recognises a status-page or cloud health alert.
func readProviderEvent(a *nova.Alert) (providerEvent, bool) {
	src := strings.ToLower(strings.TrimSpace(a.Source))
	sum := strings.ToLower(a.Summary)
	code := strings.ToLower(a.Details["eventTypeCode"])
	isStatus := statusSources[src] || code != "" ||
		strings.Contains(sum, "status:") || strings.Contains(sum, "service health") || strings.Contains(sum, "aws health") ||
		(a.Details["provider"] != "" && a.Details["status"] != "")
	if !isStatus {
		for _, p := range statusPhrases {
			if strings.Contains(sum, p) {
				_, named := providerByName(a.Summary)
				isStatus = named
				break
			}
		}
	}
	if !isStatus {
		return providerEvent{}, false
	}
	name := a.Details["provider"]
	if name == "" {
		if p, ok := providerByName(a.Summary); ok {
			name = p
		} else if code != "" {
			name = "AWS"
		}
	}
	if name == "" {
		return providerEvent{}, false
	}
	ev := providerEvent{alert: a, provider: name}
	parts := []string{code, a.Summary}
	for _, k := range sortedKeys(a.Details) {
		if eventPlaceKeys[strings.ToLower(k)] {
			parts = append(parts, a.Details[k])
		}
	}
	raw := strings.ToLower(strings.Join(parts, " "))
	for _, w := range strings.Fields(normWords(raw)) {
		if infraEventWords[w] {
			ev.infra = true
		}
	}
	for _, w := range strings.FieldsFunc(raw, func(r rune) bool { return r == ' ' || r == ',' || r == '(' || r == ')' || r == ':' || r == ';' }) {
		if zoneLike.MatchString(w) {
			ev.infra = true
		}
	}
	if !isPlatform(name) {
		ev.infra = false
	}
	// An operational issue with a managed service consumed through its API
	// (S3, DynamoDB, SQS) is a failing dependency even on a cloud platform.
	if code != "" && !strings.Contains(code, "ec2") && !strings.Contains(code, "ebs") && !strings.Contains(code, "vpc") {
		ev.infra = false
	}
	return ev, true
}

// cdnNamed returns the CDN an alert's response headers name ("server:
// cloudflare", "via: 1.1 varnish"), if any.
func cdnNamed(a *nova.Alert) (string, bool) {
	for _, k := range sortedKeys(a.Details) {
		switch strings.ToLower(k) {
		case "server", "via", "x-served-by", "x_served_by", "cdn", "x-cache":
			if p, ok := providerByName(a.Details[k]); ok {
				return p, true
			}
		}
	}
	return "", false
}

// originHealthy reports whether an alert says the origin behind a CDN is
// fine: an origin error figure of (nearly) zero.
func originHealthy(a *nova.Alert) bool {
	for k, v := range a.Details {
		words := detailKeyWords(k)
		if !hasWord(words, "origin") {
			continue
		}
		if f, _, _, _, ok := parseNumber(v); ok && hasWord(words, "5xx", "errors", "error", "fehlerquote", "failures") && f <= 1 {
			return true
		}
	}
	return false
}

// dependsOn reports whether the service declares a dependency on the
// service with this id or name, or on this host.
func (in Input) dependsOn(id, name, host string) bool {
	for _, d := range in.Service.DependsOn {
		d = strings.ToLower(strings.TrimSpace(d))
		switch {
		case d == "":
		case id != "" && d == strings.ToLower(id), name != "" && d == strings.ToLower(name):
			return true
		case host != "" && (host == d || strings.HasSuffix(host, "."+d)):
			return true
		}
	}
	return false
}
