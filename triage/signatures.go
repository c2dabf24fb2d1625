package triage

import (
	"regexp"
	"sort"

	"github.com/novasre/nova"
)

// Signature is a recognisable failure pattern in alert text and the cause
// categories it points at. The catalog is a table so that a new pattern is
// one line; Options.Signatures replaces it for callers who need their own.
type Signature struct {
	// Name identifies the signature in evidence ("oom", "dns").
	Name string
	// Pattern is a regular expression matched case-insensitively against the
	// incident title, alert summaries and alert details.
	Pattern string
	// Weights is how strongly the pattern alone points at each category, in
	// [0, 1]. Weights of one signature need not sum to 1: a vague pattern
	// (latency) spreads little support, a specific one (x509) concentrates it.
	Weights map[nova.Category]float64
	// ChangeAffinity is how typical the pattern is of a bad change, in [0,
	// 1]. It turns into support for the change hypothesis only in proportion
	// to how close and how related the best candidate change is, so "5xx
	// spike" blames a deploy ten minutes earlier but not one from yesterday.
	ChangeAffinity float64
	// Describe is a plain-English phrase for headlines.
	Describe string
	// Topic is the subsystem the pattern is about (see topicWords). A
	// recent change that touched the same topic explains the symptom: the
	// signature then supports the change rather than a separate cause.
	Topic string
}

type weights = map[nova.Category]float64

// Short names keep the table below readable.
const (
	catResource = nova.CategoryResource
	catDep      = nova.CategoryDependency
	catInfra    = nova.CategoryInfrastructure
	catCert     = nova.CategoryCertificate
	catTraffic  = nova.CategoryTraffic
	catData     = nova.CategoryData
)

// defaultSignatures is the built-in catalog. Order matters only for ties in
// headlines; every matching signature contributes.
var defaultSignatures = []Signature{
	{"oom", `\boom(?:[ -]?kill(?:ed|er)?)?\b|out of memory|exit code:? ?137|memory (?:usage|pressure|limit|exhaust|leak|consumption|load)|high memory|heap (?:space|usage|exhaust)|memorypressure|outofmemoryerror|oomkilled`,
		weights{catResource: 0.55}, 0.15, "memory exhaustion (OOM kills)", "memory"},
	{"disk", `no space left|disk (?:full|space|usage|pressure|utili[sz]ation)|\binodes?\b|diskpressure|volume (?:is )?(?:full|utili[sz]ation)|rootvolutili[sz]ation|filesystem (?:is )?(?:full|almost full)|indexwritesblocked|storage (?:full|exhausted)`,
		weights{catResource: 0.55}, 0.1, "running out of disk space", "storage"},
	{"cpu", `\bcpu\b.{0,20}(?:usage|load|critical|high|saturat|spike|throttl)|high (?:jvm )?cpu|cputhrottlinghigh|load average`,
		weights{catResource: 0.45, catTraffic: 0.1}, 0.1, "CPU saturation", "cpu"},
	{"io", `disk (?:i/?o|read|write)|iowait|(?:read|write) i/?o|\bi/?o (?:rate|usage|load|wait|latency|saturat)|\biops\b`,
		weights{catResource: 0.4}, 0.05, "disk I/O saturation", "storage"},
	{"certificate", `x509|certificate (?:has )?(?:expired|expir|is not valid|verify|signed by unknown|mismatch)|cert(?:ificate)? expir|tls handshake|ssl (?:handshake|certificate|error)|altnames|cert_has_expired|err_cert|certificate.{0,40}(?:invalid|error)|sslerror|handshake fail`,
		weights{catCert: 0.6}, 0.3, "a TLS certificate problem", "certificate"},
	{"connection", `connection refused|econnrefused|upstream (?:connect )?(?:error|unavailable|timed out)|no healthy upstream|dial tcp|connection reset|broken pipe|circuit breaker|dependency (?:down|unavailable|failing)|failed to connect|could not connect|could not be established|host unreachable`,
		weights{catDep: 0.45, catInfra: 0.1}, 0.25, "a dependency refusing or dropping connections", ""},
	{"timeout", `timed? ?out\b|timeouts?\b|deadline ?exceeded|gateway timeout|\b504\b`,
		weights{catDep: 0.35, catInfra: 0.1}, 0.15, "timeouts", ""},
	{"error-rate", `\b5xx\b|\b50[0-3]\b|error rate|errors? (?:spike|increase|ratio)|highrequesterrorrate|http (?:5\d\d|errors)|internal server error|service unavailable`,
		weights{catDep: 0.2}, 0.45, "a spike in server errors", ""},
	{"latency", `latency|\bp9[59]\b|slow (?:response|request|queries|performance)|response time|highrequestlatency|apdex`,
		weights{catTraffic: 0.25, catResource: 0.2}, 0.15, "high latency", ""},
	{"crashloop", `crashloopbackoff|crash ?loop|kubepodcrashlooping|back-off restarting|restart(?:ing|ed|s)? (?:loop|repeatedly|several times)|container (?:keeps )?restarting`,
		weights{catResource: 0.3}, 0.5, "a crash loop", ""},
	{"image-pull", `imagepullbackoff|errimagepull|image ?pull|pull(?:ing)? image|manifest unknown|exec format error|failed to (?:fetch|pull) (?:image|manifest)`,
		weights{catDep: 0.3}, 0.6, "containers failing to pull their image", "image"},
	{"scheduling", `\bpending\b|failedscheduling|unschedulable|kubepodnotready|insufficient (?:cpu|memory)|containercreating|pods? (?:are )?not ready|exceeded quota|didn't match`,
		weights{catResource: 0.3, catInfra: 0.15}, 0.4, "pods unable to be scheduled or become ready", "scheduling"},
	{"init-container", `kubecontainerwaiting|init container|init:crashloopbackoff|podinitializing|containers? waiting`,
		weights{catResource: 0.1}, 0.45, "containers stuck waiting to start", ""},
	{"missing-workload", `missing from (?:the )?cluster|no \S+ pods running|\b0 (?:pods )?running|replicas unavailable|zero addresses`,
		weights{catInfra: 0.15}, 0.5, "workloads missing or deleted", ""},
	{"dns", `\bdns\b|nxdomain|coredns|kube-dns|no such host|name resolution|could not resolve|unable to resolve|servfail|getaddrinfo|enotfound|eai_again`,
		weights{catInfra: 0.55}, 0.2, "DNS resolution failures", "dns"},
	{"node", `node ?not ?ready|\bnotready\b|kubenodenotready|kubelet|\bpleg\b|nodes? (?:\S+ ){0,4}(?:down|unreachable|unhealthy|unresponsive)|instance (?:retire|retirement|unreachable|status check|stopped)|schedulingdisabled`,
		weights{catInfra: 0.55, catResource: 0.15}, 0.15, "a node problem", "node"},
	{"network", `packet (?:loss|corruption|retransmission|drop)|network (?:partition|unreachable|latency|delay|loss|issue|error)|no route to host|targets? (?:unhealthy|not available|deregistered)|no healthy targets|unhealthyhostcount|availability zone|tcp retransmi`,
		weights{catInfra: 0.5}, 0.15, "a network or load-balancer problem", "network"},
	{"replication", `replication (?:lag|delay|broken|error)|replica lag|seconds.behind.master|replica (?:out of sync|lagging)`,
		weights{catData: 0.55}, 0.1, "replication lag", "database"},
	{"queue", `queue (?:backlog|depth|size|full)|consumer (?:group )?lag|\blag\b.{0,20}(?:kafka|consumer|topic)|(?:kafka|topic).{0,30}\blag\b|backlog|dead.?letter`,
		weights{catTraffic: 0.3, catDep: 0.3}, 0.1, "a queue backlog", "queue"},
	{"throttling", `rate.?limit(?:ed|ing)?|\b429\b|too ?many ?requests|quota exceeded|request limit|rate exceeded|requests? (?:are |were )?throttled|throttled by|api throttling`,
		weights{catTraffic: 0.4}, 0.1, "rate limiting or throttling", ""},
	{"traffic-surge", `traffic (?:spike|surge|increase)|request (?:surge|spike|flood)|flood|load (?:spike|surge)|hpa (?:maxed|at max)|kubehpamaxedout|requests per second|\bddos\b`,
		weights{catTraffic: 0.55}, 0.1, "a traffic surge", ""},
	{"data", `data corruption|corrupt(?:ed|ion)|schema (?:mismatch|error|validation)|migration (?:failed|error)|constraint violation|checksum (?:mismatch|error)|duplicate key|deadlock|inconsistent data`,
		weights{catData: 0.5}, 0.3, "data or schema problems", "database"},
	{"auth", `authentication (?:failed|failure|error)|credentials invalid|unauthori[sz]ed|\b401\b|\b403\b|access ?denied|accessdenied|permission denied|not authorized|invalid (?:credentials|password|token|api key)|login attempts|wrongpass|noauth|expired token|assume ?role|nocredentialproviders`,
		weights{catDep: 0.25}, 0.45, "authentication failures", "auth"},
	{"db-connections", `too many connections|connection pool (?:exhausted|full|timeout)|max_connections|connection limit|remaining connection slots`,
		weights{catResource: 0.45, catDep: 0.15}, 0.1, "database connection exhaustion", "database"},
	{"db-down", `database (?:is )?(?:down|unavailable|unreachable)|database connection (?:failed|lost|closed)|\bdb (?:down|closed|unavailable)|could not connect to (?:server|database)|\brds\b.{0,30}(?:unavailable|down|failover)`,
		weights{catDep: 0.5}, 0.1, "the database being unavailable", "database"},
	{"no-traffic", `norequestsreceived|no requests|zero requests|traffic dropped|\b404\b|route not found|no (?:ingress )?traffic|not matching any router`,
		weights{catInfra: 0.2}, 0.4, "requests not reaching the service", "ingress"},
	{"webhook", `failed calling webhook|admission (?:webhook|controller)|validating ?webhook|mutating ?webhook|denied the request`,
		weights{catDep: 0.2}, 0.5, "an admission webhook blocking API calls", "webhook"},
	{"probe", `(?:readiness|liveness|startup) ?probe (?:failed|failure)|probe failed`,
		weights{catResource: 0.2}, 0.3, "failing health probes", ""},
	{"logging", `logs? (?:are )?(?:not (?:being )?shipped|missing|dropped|not received)|(?:stopped|not) shipping logs|missing logs|buffer (?:space|overflow|full)`,
		weights{catResource: 0.15}, 0.3, "the log pipeline dropping logs", "logging"},
	{"scrape", `scrape (?:timeout|failed|error)|target ?down|exporter (?:is )?(?:down|up)|metrics (?:missing|not)`,
		weights{catDep: 0.2}, 0.2, "metrics collection failing", "monitoring"},
	{"ip-exhaustion", `free ip address|ip (?:address )?exhaust|subnet (?:is )?(?:full|exhaust)|assign an ip address|no (?:available|free) ip`,
		weights{catResource: 0.5, catInfra: 0.2}, 0.1, "IP address exhaustion", "network"},
	{"cloud-capacity", `insufficient\w*capacity|insufficient (?:capacity|instance)|capacity (?:error|unavailable)`,
		weights{catInfra: 0.55}, 0.05, "the cloud provider lacking capacity", ""},
	{"provider", `aws (?:health|outage|incident|issue)|provider outage|region(?:al)? outage|cloud provider`,
		weights{catInfra: 0.6}, 0.05, "a cloud provider problem", ""},
}

// DefaultSignatures returns a copy of the built-in catalog, for callers who
// want to extend it through Options.Signatures.
func DefaultSignatures() []Signature {
	out := make([]Signature, len(defaultSignatures))
	for i, s := range defaultSignatures {
		s.Weights = copyWeights(s.Weights)
		out[i] = s
	}
	return out
}

func copyWeights(m map[nova.Category]float64) map[nova.Category]float64 {
	c := make(map[nova.Category]float64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// compiledSignature is a Signature with its pattern ready to match.
type compiledSignature struct {
	Signature
	re *regexp.Regexp
	// hints prefilter lower-cased text (see literalHints); nil means none.
	hints []string
}

// match reports whether the signature occurs in lower-cased text.
func (s compiledSignature) match(lower string) bool {
	if s.hints != nil && !containsAny(lower, s.hints) {
		return false
	}
	return s.re.MatchString(lower)
}

// compiledDefaults is compiled once: the table is fixed and its patterns are
// tested, so a bad one is a programming error caught by the tests. The
// built-in patterns are written in lower case and matched against
// lower-cased text, which is several times faster than (?i) case folding;
// a test keeps them free of upper case.
var compiledDefaults = mustCompileLower(defaultSignatures)

func mustCompileLower(sigs []Signature) []compiledSignature {
	out := make([]compiledSignature, 0, len(sigs))
	for _, s := range sigs {
		out = append(out, compiledSignature{Signature: s, re: regexp.MustCompile(s.Pattern), hints: literalHints(s.Pattern)})
	}
	return out
}

// compile compiles caller-supplied signatures case-insensitively, dropping
// any whose pattern is empty, too long or invalid: a bad entry in a
// customer's catalog must not stop triage.
func compile(sigs []Signature) []compiledSignature {
	out := make([]compiledSignature, 0, len(sigs))
	for _, s := range sigs {
		re := compileUserRegexp(s.Pattern)
		if re == nil {
			continue
		}
		out = append(out, compiledSignature{Signature: s, re: re})
	}
	return out
}

// maxPattern bounds user-supplied patterns. RE2 runs in linear time, but a
// huge pattern still costs memory on every incident.
const maxPattern = 2000

// compileUserRegexp compiles a case-insensitive pattern, or returns nil for
// an empty, oversized or invalid one.
func compileUserRegexp(p string) *regexp.Regexp {
	if p == "" || len(p) > maxPattern {
		return nil
	}
	re, err := regexp.Compile("(?i)" + p)
	if err != nil {
		return nil
	}
	return re
}

// bestCategory returns the category a signature points at most strongly,
// excluding change (which comes from change events, not from text).
func (s Signature) bestCategory() (nova.Category, float64) {
	cats := make([]nova.Category, 0, len(s.Weights))
	for c := range s.Weights {
		cats = append(cats, c)
	}
	sort.Slice(cats, func(i, j int) bool { return cats[i] < cats[j] })
	best, bw := nova.CategoryUnknown, 0.0
	for _, c := range cats {
		if c == nova.CategoryChange || !validCategory(c) {
			continue
		}
		if v := clamp01(s.Weights[c]); v > bw {
			best, bw = c, v
		}
	}
	return best, bw
}

// validCategory reports whether c is one of nova.Categories.
func validCategory(c nova.Category) bool {
	for _, k := range nova.Categories {
		if c == k {
			return true
		}
	}
	return false
}
