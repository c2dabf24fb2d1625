package triage

import (
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/novasre/nova"
)

// Alert custom details read as key/value evidence: numbers against their
// limits and baselines, breakdowns by zone or host, the hosts a service
// failed to reach, when the symptoms began. Keys are matched by the words
// they are made of ("memory_limit_mb" is memory + limit), so the same rule
// reads Prometheus, Datadog, CloudWatch and hand-written integrations.

// metric is one number in an alert's details with what it measures.
type metric struct {
	alert *nova.Alert
	key   string
	topic string // see metricTopics
	value float64
	// limit is the threshold, limit or baseline it was compared with (zero
	// when none was found); pct marks a percentage of capacity.
	limit float64
	pct   bool
	// state is +1 when the number is past its limit (or far above its
	// baseline), -1 when it is comfortably normal, 0 when unknown.
	state int
	// mult marks a number that is itself a multiple of the usual ("21x"),
	// whatever threshold it was compared with.
	mult bool
}

// metricTopics maps words found in detail keys to what the number measures.
// The topics of resources match signature topics (memory, cpu, storage, fd)
// so that a number can confirm or contradict a pattern in prose.
var metricTopics = map[string]string{
	"memory": "memory", "mem": "memory", "heap": "memory", "rss": "memory", "working": "memory", "oom": "memory",
	"speicher": "memory", "arbeitsspeicher": "memory", "mémoire": "memory", "memoria": "memory", "memória": "memory",
	"cpu": "cpu", "load": "cpu",
	"disk": "storage", "volume": "storage", "filesystem": "storage", "inode": "storage", "inodes": "storage", "storage": "storage",
	"festplatte": "storage", "disco": "storage", "disque": "storage",
	"fd": "fd", "fds": "fd", "descriptors": "fd", "nofile": "fd",
	"connections": "connections", "conns": "connections", "pool": "connections", "clients": "connections",
	"requests": "traffic", "rps": "traffic", "qps": "traffic", "rpm": "traffic", "throughput": "traffic", "users": "traffic",
	"ccu": "traffic", "inbound": "traffic", "traffic": "traffic", "requisicoes": "traffic", "requêtes": "traffic", "anfragen": "traffic",
	"5xx": "errors", "error": "errors", "errors": "errors", "failure": "errors", "failures": "errors", "502": "errors", "503": "errors",
	"latency": "latency", "p99": "latency", "p95": "latency", "p50": "latency", "await": "latency", "duration": "latency",
	"lag": "queue", "backlog": "queue", "queue": "queue", "depth": "queue",
	"temperature": "temperature", "temp": "temperature",
}

// unspacedTopics name what a number measures in detail keys written in
// scripts without spaces ("メモリ使用率", "磁盘使用率").
var unspacedTopics = []struct{ word, topic string }{
	{"メモリ", "memory"}, {"内存", "memory"}, {"ディスク", "storage"}, {"磁盘", "storage"}, {"硬盘", "storage"},
	{"接続", "connections"}, {"连接", "connections"}, {"リクエスト", "traffic"}, {"请求", "traffic"}, {"流量", "traffic"},
	{"エラー", "errors"}, {"错误", "errors"}, {"遅延", "latency"}, {"延迟", "latency"}, {"レイテンシ", "latency"},
}

// topicOfWord returns what a key word says a number measures.
func topicOfWord(w string) (string, bool) {
	if t, ok := metricTopics[w]; ok {
		return t, true
	}
	if unspacedScript(w) {
		for _, u := range unspacedTopics {
			if strings.Contains(w, u.word) {
				return u.topic, true
			}
		}
	}
	return "", false
}

// resourceTopics are the metric topics a breached number makes a resource
// problem of.
var resourceTopics = map[string]string{
	"memory": "memory", "cpu": "CPU", "storage": "disk space", "fd": "file descriptors", "connections": "connections",
}

// Words in keys that give a number's role.
var (
	limitWords    = toSet("limit threshold max maximum capacity cap ulimit quota")
	baselineWords = toSet("baseline normal previous peak expected median forecast usual typical avg average record " +
		"anterior pico habitual vorher üblich spitze précédent habituel pic 通常 平常 基准 平时 平日 普段 通常時")
)

// detailKeyWords splits a detail key into lower-case words: "memory_limit_mb",
// "Dimensions.AvailabilityZone" and "kube-apiserver p99" all come apart.
func detailKeyWords(k string) []string {
	return strings.Fields(normWords(splitCamel(keySeparators.Replace(k))))
}

// keySeparators split detail keys into words.
var keySeparators = strings.NewReplacer(".", " ", "_", " ")

var numberPrefix = regexp.MustCompile(`^\s*(-?[0-9][0-9,]*(?:\.[0-9]+)?)\s*(%|x\b|×|倍|ms\b|s\b|gb\b|mb\b|kb\b|gbps\b|tbps\b)?`)

// multipleOf finds "3.1x last week", "6x baseline", "50x launch forecast".
var multipleOf = regexp.MustCompile(`(?i)\b([0-9]+(?:\.[0-9]+)?)\s*x\b`)

// parseNumber reads the leading number of a detail value: "97.5", "61%",
// "1,200", "4.2x baseline", "0/412" (a fraction), "12000ms".
func parseNumber(v string) (val float64, pct, multiple, fraction bool, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" || !(v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) {
		return 0, false, false, false, false
	}
	if a, b, found := strings.Cut(v, "/"); found {
		x, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
		y, err2 := strconv.ParseFloat(strings.Fields(strings.TrimSpace(b) + " ")[0], 64)
		if err1 == nil && err2 == nil && y > 0 {
			return x / y, false, false, true, true
		}
	}
	m := numberPrefix.FindStringSubmatch(strings.ToLower(v))
	if m == nil {
		return 0, false, false, false, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, false, false, false
	}
	// A number followed by prose that is not a unit ("9 of 12 hosts") still
	// reads as its number; a version ("1.0.2k") does not.
	rest := strings.TrimSpace(v[len(m[0]):])
	if strings.HasPrefix(rest, ".") || (rest != "" && unicode.IsLetter(rune(rest[0])) && m[2] == "" && !strings.Contains(rest, " ")) {
		return 0, false, false, false, false
	}
	return f, m[2] == "%", m[2] == "x" || m[2] == "×" || m[2] == "倍", false, true
}

// cloudWatchReason reads CloudWatch's "Threshold Crossed: 1 datapoint [9.0
// (...)] was greater than or equal to the threshold (2.0)".
// ("3 out of the last 3 datapoints [97.2 (...), 96.8 (...)] were greater
// than..."), numbers in CloudWatch's exponent form ("1.2E9") included.
var cloudWatchReason = regexp.MustCompile(`(?i)\[([0-9.]+(?:e[+-]?[0-9]+)?)[^\]]*\] (?:was|were) (greater|less) than (?:or equal to )?the threshold \(([0-9.]+(?:e[+-]?[0-9]+)?)\)`)

// readMetrics extracts the numbers of one alert with their limits.
func readMetrics(a *nova.Alert) []metric {
	type entry struct {
		key   string
		words []string
		topic string
		role  string // value, limit, baseline
		val   float64
		pct   bool
		mult  bool
	}
	// What a bare "value" or "threshold" measures is named by the alert's
	// summary or, when that names the service rather than the check, by the
	// rule's own name in the details (Prometheus' alertname, a Datadog
	// monitor, a CloudWatch alarm).
	// The last word that names a measure wins ("requests p99 latency" is a
	// latency, "web-app requests/s" a rate); only resources and traffic are
	// read this way.
	summaryTopic := ""
	for _, text := range append([]string{a.Summary}, titleDetails(a.Details)...) {
		last := ""
		for _, w := range strings.Fields(normWords(splitIdentifier(keySeparators.Replace(text)))) {
			if t, ok := topicOfWord(w); ok {
				last = t
			}
		}
		if resourceTopics[last] != "" || last == "traffic" {
			summaryTopic = last
			break
		}
	}
	var entries []entry
	var out []metric
	for _, k := range sortedKeys(a.Details) {
		v := a.Details[k]
		if m := cloudWatchReason.FindStringSubmatch(v); m != nil {
			val, _ := strconv.ParseFloat(m[1], 64)
			lim, _ := strconv.ParseFloat(m[3], 64)
			topic := summaryTopic
			for _, w := range strings.Fields(normWords(splitIdentifier(keySeparators.Replace(a.Details["AlarmName"] + " " + a.Details["MetricName"])))) {
				if t, ok := metricTopics[w]; ok {
					topic = t
					break
				}
			}
			if topic != "" && lim > 0 {
				state := 0
				if (m[2] == "greater" && val >= lim) || (m[2] == "less" && val <= lim) {
					state = 1
				}
				out = append(out, metric{alert: a, key: k, topic: topic, value: val, limit: lim, state: state})
			}
			continue
		}
		val, pct, mult, fraction, ok := parseNumber(v)
		if !ok || fraction {
			continue
		}
		words := detailKeyWords(k)
		e := entry{key: k, words: words, role: "value", val: val, pct: pct || hasWord(words, "pct", "percent", "ratio", "utilization", "utilisation"), mult: mult}
		for _, w := range words {
			if limitWords[w] {
				e.role = "limit"
			} else if baselineWords[w] && e.role == "value" {
				e.role = "baseline"
			}
			if t, ok := topicOfWord(w); ok && e.topic == "" {
				e.topic = t
			}
		}
		// A rate ("new_connections_per_s", "requests_per_min") is traffic.
		if hasWord(words, "per", "por", "pro", "par") && hasWord(words, "s", "sec", "second", "min", "minute", "hour", "minuto", "minute", "stunde") {
			e.topic = "traffic"
		}
		if e.topic == "" && (hasWord(words, "value") || e.role != "value") {
			e.topic = summaryTopic
		}
		if e.topic == "" && e.mult {
			if mm := multipleOf.FindStringSubmatch(v); mm != nil && baselineText(v) {
				e.topic = "traffic"
			}
		}
		if e.topic != "" {
			entries = append(entries, e)
		}
	}
	for _, e := range entries {
		if e.role != "value" {
			continue
		}
		m := metric{alert: a, key: e.key, topic: e.topic, value: e.val, pct: e.pct, mult: e.mult}
		for _, o := range entries {
			if o.role != "value" && o.topic == e.topic && o.val > 0 {
				m.limit = o.val
				if o.role == "baseline" {
					m.limit = -o.val // negative marks a baseline, not a limit
				}
				break
			}
		}
		switch {
		case e.mult:
			// "21x" against a threshold of "5x" is 21 times the usual.
			m.limit = 0
			m.state = stateOfRatio(e.val, true)
		case m.limit > 0:
			m.state = stateOfRatio(m.value/m.limit, false)
		case m.limit < 0:
			m.state = stateOfRatio(m.value/(-m.limit), true)
		case m.pct && resourceTopics[m.topic] != "":
			switch {
			case m.value >= 90:
				m.state = 1
			case m.value <= 70:
				m.state = -1
			}
		}
		out = append(out, m)
	}
	return out
}

// titleKeys are detail keys whose value names the check that fired.
var titleKeys = toSet("alertname alert_name alarmname alarm_name monitor monitor_name title check check_name rule rule_name metricname metric_name metric event_title policy_name condition_name")

// titleDetails returns the values of an alert's title-like details, in key
// order.
func titleDetails(d map[string]string) []string {
	var out []string
	for _, k := range sortedKeys(d) {
		if titleKeys[strings.ToLower(k)] {
			out = append(out, d[k])
		}
	}
	return out
}

// baselineText reports whether a value compares with a baseline in words
// ("3.1x last Monday", "50x launch forecast").
func baselineText(v string) bool {
	for _, w := range strings.Fields(normWords(v)) {
		if baselineWords[w] || w == "last" || w == "launch" || w == "week" {
			return true
		}
	}
	return false
}

// stateOfRatio judges value/limit (or value/baseline when vsBaseline).
func stateOfRatio(r float64, vsBaseline bool) int {
	if vsBaseline {
		switch {
		case r >= 2:
			return 1
		case r <= 1.2:
			return -1
		}
		return 0
	}
	switch {
	case r >= 0.9:
		return 1
	case r <= 0.7:
		return -1
	}
	return 0
}

func hasWord(words []string, any ...string) bool {
	for _, w := range words {
		for _, a := range any {
			if w == a {
				return true
			}
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// onsetKeys are detail keys that say when the symptoms began.
var onsetKeys = toSet("first_seen firstseen since started_at startedat start starts_at startsat onset begin began first_error firing_since starttime start_time last_event last_received")

// readOnset returns when an alert says its symptoms began: from its details
// (RFC 3339, "2006-01-02 15:04", or a time of day on the trigger's date),
// else zero.
func readOnset(a *nova.Alert, trigger time.Time) time.Time {
	var best time.Time
	for k, v := range a.Details {
		if !onsetKeys[strings.ToLower(strings.ReplaceAll(k, "-", "_"))] {
			continue
		}
		if t, ok := parseWhen(v, trigger); ok && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}
	return best
}

var timeOfDay = regexp.MustCompile(`^(\d{1,2}):(\d{2})(?::(\d{2}))?`)

// parseWhen reads a time written the ways alert tools write it; a bare time
// of day is taken on the trigger's (UTC) date, the day before when that
// would put it after the trigger.
func parseWhen(v string, trigger time.Time) (time.Time, bool) {
	v = strings.TrimSpace(v)
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	m := timeOfDay.FindStringSubmatch(v)
	if m == nil || trigger.IsZero() {
		return time.Time{}, false
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	s, _ := strconv.Atoi(m[3])
	if h > 23 || mi > 59 || s > 59 {
		return time.Time{}, false
	}
	tr := trigger.UTC()
	t := time.Date(tr.Year(), tr.Month(), tr.Day(), h, mi, s, 0, time.UTC)
	if t.After(tr.Add(5 * time.Minute)) {
		t = t.AddDate(0, 0, -1)
	}
	return t, true
}

// quietSeverity marks alerts that warn rather than page: they often record
// a precursor (a link flapping, a power feed switching to generators) rather
// than the symptom itself, so they do not set the onset.
func quietSeverity(s string) bool {
	switch strings.ToLower(s) {
	case "warning", "warn", "info", "information", "low":
		return true
	}
	return false
}
