package triage

import (
	"math"
	"regexp"
	"sort"
	"strings"
	"unicode"
)

// urlPattern strips links before tokenising: host names and paths in links
// share tokens with everything ("com", "https", team names) and would make
// unrelated texts look alike.
var urlPattern = regexp.MustCompile(`(?i)\b(?:https?://|www\.)\S+`)

// stopwords are dropped from token sets. Besides English filler they hold
// words that every change or alert carries ("deploy", "alert", "prod"), which
// would otherwise make any change look related to any incident.
var stopwords = toSet(`a an and are as at be been by can could did do does for from had has have if in into is it its
of on or over than that the their then there these this those to was were when where which while with without after before
not no via per all any each more most other some such only own same so too very just now new old also
alert alerts alerting alarm firing triggered trigger resolved warning critical severity high low info page pagerduty
incident incidents issue issues problem problems detected detection check checks
deploy deployed deploying deployment deployments release released rollout update updated updating upgrade upgraded change changed changes
version versions build builds pipeline pipelines run running ran job merge merged pr commit commits apply applied
prod production staging env environment cluster clusters service services svc app application applications team
pod pods container containers kube kubernetes k8s
error errors value values status state state count total rate ms sec seconds minute minutes min hour hours day days
pingdom checkly uptimerobot statuscake datadog newrelic sentry zabbix nagios mackerel opsgenie synthetic synthetics probe probes`)

func toSet(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// tokens returns the distinct, lower-cased, lightly stemmed content words of
// s, in first-seen order.
func tokens(s string) []string {
	s = splitCamel(collapseHosts(urlPattern.ReplaceAllString(s, " ")))
	fields := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	seen := map[string]bool{}
	var out []string
	for _, f := range fields {
		if len(f) < 2 || len(f) > 40 || stopwords[f] || versionish(f) || quantity(f) || (allDigits(f) && topicWords[f] == "") {
			continue
		}
		f = stem(f)
		if stopwords[f] || seen[f] {
			continue
		}
		seen[f] = true
		out = append(out, f)
	}
	return out
}

// anyHost finds host names whatever their case.
var anyHost = regexp.MustCompile(`(?i)\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}\b`)

// hostJoiner removes the separators of a host name.
var hostJoiner = strings.NewReplacer(".", "", "-", "")

// hostSuffixes are the last labels of host names collapsed into one token.
var hostSuffixes = toSet("example internal local svc lan corp")

// collapseHosts turns each host name into one token ("api.shop.example"
// becomes "apishopexample"): the parts of a company's domain are shared by
// all its hosts and say nothing about which one failed, while the whole
// name still matches where it recurs.
func collapseHosts(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	return anyHost.ReplaceAllStringFunc(s, func(h string) string {
		lh := strings.ToLower(h)
		labels := strings.Split(lh, ".")
		last := labels[len(labels)-1]
		if _, known := providerByHost(lh); !known && !publicSuffix[last] && !hostSuffixes[last] {
			return h
		}
		return hostJoiner.Replace(lh)
	})
}

// splitCamel puts a space before an upper-case letter that follows a
// lower-case one, so that alert names such as "HighRequestErrorRate" and
// flag names such as "loadGeneratorFloodHomepage" share words with prose.
// Runs of capitals ("OOMKilled") stay whole.
func splitCamel(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	prevLower := false
	for _, r := range s {
		if unicode.IsUpper(r) && prevLower {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
		prevLower = unicode.IsLower(r)
	}
	return b.String()
}

// splitIdentifier is splitCamel that also ends a run of capitals before
// the capital that starts the next word ("CPUUtilization" becomes "CPU
// Utilization", "HTTPCode_ELB_5XX" keeps "HTTP Code"), for reading rule
// and metric names; prose keeps splitCamel's whole runs ("OOMKilled").
func splitIdentifier(s string) string {
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || (unicode.IsUpper(prev) && nextLower) {
				b.WriteByte(' ')
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// quantityPattern matches a number with its unit ("30s", "512mb", "5x").
var quantityPattern = regexp.MustCompile(`^[0-9]+(?:ms|s|m|h|d|kb|mb|gb|tb|mib|gib|x|k)$`)

// quantity reports tokens that are amounts ("30s", "2s", "768mb"): a TTL of
// 30s and a check that timed out after 30s share a token, not a subject.
func quantity(f string) bool { return f[0] >= '0' && f[0] <= '9' && quantityPattern.MatchString(f) }

// versionish reports tokens such as "v2", "13" or "0" that come from version
// strings and timestamps: they match between unrelated texts by accident.
func versionish(f string) bool {
	digits := strings.TrimLeft(f, "v")
	if digits == "" {
		return false
	}
	for _, r := range digits {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return len(digits) <= 2 || len(digits) >= 5
}

// allDigits reports whether f is a number: counts and percentages match
// between unrelated texts by accident ("to 100%", "failures 100%").
func allDigits(f string) bool {
	for _, r := range f {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return f != ""
}

// stem strips common English suffixes so that "expired" meets "expires" and
// "restarting" meets "restarts". It is deliberately crude: both sides of every
// comparison go through it, so it only has to be consistent.
func stem(w string) string {
	for _, suf := range []string{"ing", "ed", "es", "s"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 4 && !strings.HasSuffix(w, "ss") {
			w = w[:len(w)-len(suf)]
			break
		}
	}
	// "expire", "expired" and "expires" all end up as "expir".
	if strings.HasSuffix(w, "e") && len(w) >= 5 {
		w = w[:len(w)-1]
	}
	return w
}

// topicWords maps words to the subsystem they name, so that a change about
// "limitrange" and an alert about "OOMKilled" meet on "memory" even though
// they share no word. Keys are matched after stemming.
var topicWords = map[string]string{}

func init() {
	for topic, words := range map[string]string{
		"certificate": "cert certificate certificat x509 tls ssl https altname cert-manager acme letsencrypt",
		"dns":         "dns coredns kube-dns nxdomain resolv resolve resolution route53 external-dns servfail hostname",
		"memory":      "memory mem oom oomkill oomkilled heap limitrange gc jvm 137 rss",
		"cpu":         "cpu throttl throttling load",
		"storage":     "disk volume storage inode pvc ebs space filesystem wal iops",
		"database":    "database db postgres postgresql mysql rds sql migration schema replica replication",
		"ingress":     "ingress nginx traefik alb nlb elb loadbalancer balancer gateway ingressroute modsec",
		"network":     "network cni vpc subnet route rout securitygroup networkpolicy packet latency partition calico",
		"config":      "config configmap configuration flag flagd feature env variable setting annotation",
		"auth":        "auth authentication credential credentials secret password token iam kiam oauth okta adfs login 401 403 sso",
		"node":        "node nodes ami kubelet instance ec2 autoscaling asg nodegroup pleg notready",
		"queue":       "kafka queue consumer topic backlog lag",
		"cache":       "cache redis valkey memcached",
		"logging":     "log logs logging fluentd fluent fluent-bit cloudwatch kibana elasticsearch opensearch",
		"monitoring":  "prometheus metric metrics grafana exporter scrape alertmanager",
		"image":       "image registry dockerhub ecr imagepullbackoff errimagepull pull manifest",
		"scheduling":  "pending schedul unschedulable affinity quota taint cordon preempt priority",
		"webhook":     "webhook admission kyverno opa gatekeeper validat",
		"fd":          "fd fds descriptor descriptors ulimit nofile emfile",
		"datacenter":  "datacenter datacentre power generator ups cooling facility rack pdu",
		"clock":       "clock ntp chrony leap skew drift",
		"release":     "helm flux fluxcd argocd kustomize prune",
		"quota":       "quota quotas limit limits ratelimit",
	} {
		for _, w := range strings.Fields(words) {
			topicWords[stem(w)] = topic
			topicWords[w] = topic
		}
	}
}

// topics returns the topics the tokens touch.
func topics(toks []string) map[string]bool {
	out := map[string]bool{}
	for _, t := range toks {
		if tp, ok := topicWords[t]; ok {
			out[tp] = true
		}
	}
	return out
}

// idf weighs tokens by how few of docs contain them, scaled to (0, 1]: a
// token found in only one document weighs 1. Computing it over the documents
// of one incident (its changes, its past incidents) keeps the engine pure
// and self-calibrating: words that every change summary of a team carries
// stop counting as evidence without anyone listing them.
type idf struct {
	n  int
	df map[string]int
}

func newIDF(docs [][]string) idf {
	w := idf{n: len(docs), df: map[string]int{}}
	for _, d := range docs {
		for _, t := range d {
			w.df[t]++
		}
	}
	return w
}

func (w idf) weight(t string) float64 {
	df := w.df[t]
	if w.n <= 1 || df == 0 {
		return 1
	}
	return math.Log(1+float64(w.n)/float64(df)) / math.Log(1+float64(w.n))
}

// overlapScale sets how fast shared terms saturate: one rare shared word
// gives 0.4, two 0.64, a shared topic on its own 0.32.
const overlapScale = 2.0

// overlap scores in [0, 1) how much doc shares with ref: weighted shared
// words plus shared topics, saturating so that a couple of strong shared
// words already count as a clear match. It returns the shared terms too, for
// the evidence text.
func overlap(doc, ref []string, ignore map[string]bool, w idf) (float64, []string) {
	refSet := map[string]bool{}
	for _, t := range ref {
		refSet[t] = true
	}
	sum := 0.0
	var shared []string
	for _, t := range doc {
		if refSet[t] && !ignore[t] {
			sum += w.weight(t)
			shared = append(shared, t)
		}
	}
	refTopics := topics(without(ref, ignore))
	var sharedTopics []string
	for tp := range topics(without(doc, ignore)) {
		if refTopics[tp] {
			sharedTopics = append(sharedTopics, tp)
		}
	}
	sort.Strings(sharedTopics)
	// A shared topic is weaker evidence than a shared word, and a topic that
	// only shares the word already counted adds little.
	sum += 0.7 * float64(len(sharedTopics))
	for _, tp := range sharedTopics {
		shared = append(shared, "#"+tp)
	}
	return 1 - math.Exp(-sum/overlapScale), shared
}

// without returns toks minus the ignored ones (a service named "webhooks"
// is not about admission webhooks).
func without(toks []string, ignore map[string]bool) []string {
	if len(ignore) == 0 {
		return toks
	}
	out := make([]string, 0, len(toks))
	for _, t := range toks {
		if !ignore[t] {
			out = append(out, t)
		}
	}
	return out
}

// jaccard is the Jaccard index of two token sets, with topics counted as
// extra tokens so that paraphrases ("OOMKilled" and "out of memory") meet.
func jaccard(a, b []string) float64 {
	as, bs := map[string]bool{}, map[string]bool{}
	for _, t := range a {
		as[t] = true
	}
	for tp := range topics(a) {
		as["#"+tp] = true
	}
	for _, t := range b {
		bs[t] = true
	}
	for tp := range topics(b) {
		bs["#"+tp] = true
	}
	if len(as) == 0 || len(bs) == 0 {
		return 0
	}
	inter := 0
	for t := range as {
		if bs[t] {
			inter++
		}
	}
	return float64(inter) / float64(len(as)+len(bs)-inter)
}

// noisyOr combines independent pieces of support p_i into 1 - Π(1 - p_i):
// each piece can only raise the result, none can push it past 1, and two
// weak pieces together stay weaker than one strong piece.
func noisyOr(ps ...float64) float64 {
	q := 1.0
	for _, p := range ps {
		q *= 1 - clamp01(p)
	}
	return 1 - q
}

// clamp01 maps p into [0, 1], treating NaN as 0.
func clamp01(p float64) float64 {
	switch {
	case math.IsNaN(p) || p < 0:
		return 0
	case p > 1:
		return 1
	}
	return p
}

// truncate shortens s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
