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
	// Tokens are language-neutral marks of the pattern, matched as whole
	// words in lower-cased text whatever the language around them:
	// exception class names (sslhandshakeexception), errno names (emfile),
	// TLS/PKI codes (cert_has_expired), exit reasons (oomkilled), and the
	// phrases other languages use ("zertifikat abgelaufen", "証明書"). A word
	// ending in "*" matches as a prefix; phrases match on word boundaries;
	// Chinese and Japanese tokens match anywhere.
	Tokens []string
	// Contradict are words that, in the same alert, say the pattern is not
	// what is happening ("handshake timeout" is an overloaded server, not a
	// certificate). A contradicted match does not count.
	Contradict []string
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
	{"oom", `\boom(?:[ -]?kill(?:ed|er)?)?\b|out of memory|exit code:? ?137|memory (?:usage|pressure|limit|exhaust|leak|consumption|load)|high memory|heap (?:space|usage|exhaust)|memorypressure|outofmemoryerror|oomkilled|low on resource:? memory`,
		weights{catResource: 0.55}, 0.15, "memory exhaustion (OOM kills)", "memory",
		[]string{"oomkilled", "outofmemoryerror", "outofmemoryexception", "memoryerror", "enomem", "cannot allocate memory",
			"heap out of memory", "oom_kill", "oom killer", "circuit_breaking_exception", "data too large", "signal killed", "max memory used", "arbeitsspeicher", "speichermangel", "mémoire insuffisante",
			"memoria insuficiente", "sin memoria", "memória insuficiente", "メモリ不足", "内存不足", "内存溢出"},
		[]string{"memory ok", "no oom"}},
	{"disk", `no space left|disk (?:full|space|usage|pressure|utili[sz]ation)|\binodes?\b|diskpressure|volume (?:is )?(?:full|utili[sz]ation)|rootvolutili[sz]ation|filesystem (?:is )?(?:full|almost full)|indexwritesblocked|storage (?:full|exhausted)|low on resource:? ephemeral-storage|ephemeral (?:local )?storage (?:usage|limit)|disk watermark|flood.stage|filling up|out of disk|only [0-9.]+ ?% (?:available|free)|% (?:available|free) space`,
		weights{catResource: 0.55}, 0.1, "running out of disk space", "storage",
		[]string{"enospc", "no space left on device", "festplatte voll", "kein speicherplatz", "espace disque insuffisant",
			"disque plein", "sin espacio en disco", "disco lleno", "sem espaço em disco", "disco cheio", "ディスク容量", "ディスクフル", "磁盘空间不足", "磁盘已满",
			"領域不足", "容量不足", "空き容量不足", "空间不足", "存储空间不足", "存储已满", "read_only_allow_delete", "read only allow delete",
			"unable to persist to disk", "misconf", "database space exceeded", "nospace"},
		[]string{"socket timeout", "check timed out", "service check timed out", "plugin timed out"}},
	{"fd", `too many open files|file descriptors? (?:exhaust|limit)|open files limit`,
		weights{catResource: 0.6}, 0.15, "file descriptor exhaustion", "fd",
		[]string{"emfile", "enfile", "too many open files", "errno 24", "eaddrnotavail", "cannot assign requested address", "ephemeral port*", "zu viele offene dateien", "trop de fichiers ouverts",
			"demasiados archivos abiertos", "arquivos abertos demais", "開いているファイルが多すぎます", "打开的文件过多"},
		nil},
	{"cpu", `\bcpu\b.{0,20}(?:usage|load|critical|high|saturat|spike|throttl)|high (?:jvm )?cpu|cputhrottlinghigh|load average`,
		weights{catResource: 0.45, catTraffic: 0.1}, 0.1, "CPU saturation", "cpu",
		[]string{"cpu exhaustion", "cpu saturation", "cpu auslastung", "cpu-auslastung", "uso de cpu", "utilisation cpu", "cpu使用率", "cpu 使用率"},
		nil},
	{"io", `disk (?:i/?o|read|write)|iowait|(?:read|write) i/?o|\bi/?o (?:rate|usage|load|wait|latency|saturat)|\biops\b`,
		weights{catResource: 0.4}, 0.05, "disk I/O saturation", "storage", nil, []string{"i o timeout"}},
	{"certificate", `x509|certificate (?:has )?(?:expired|expir|is not valid|verify|signed by unknown|mismatch)|cert(?:ificate)? expir|tls handshake|ssl (?:handshake|certificate|error)|altnames|cert_has_expired|err_cert|certificate.{0,40}(?:invalid|error)|sslerror|handshake fail`,
		weights{catCert: 0.6}, 0.3, "a TLS certificate problem", "certificate",
		[]string{"x509", "cert_has_expired", "certificate_verify_failed", "sslhandshakeexception", "sslcertverificationerror",
			"certpathvalidatorexception", "certificateexpiredexception", "suncertpathbuilderexception", "pkix path",
			"unable_to_verify_leaf_signature", "self_signed_cert_in_chain", "depth_zero_self_signed_cert", "err_tls_cert_altname_invalid",
			"sec_error_revoked_certificate", "sec_error_expired_certificate", "err_cert_date_invalid", "err_cert_authority_invalid",
			"remotecertificatenamemismatch", "remotecertificatechainerrors", "remote certificate is invalid", "certificate revoked",
			"certificate has expired", "certificate expired", "ssl certificate problem", "certificate verify failed",
			"bad certificate", "unknown certificate authority", "certificate required", "certificate unknown", "sslv3 alert", "tlsv1 alert",
			"certificado ha caducado", "certificado ha expirado", "certificado expiró", "certificado no válido", "certificado inválido",
			"certificat a expiré", "certificat invalide", "zertifikat ist abgelaufen", "有効期限が切れ",
			"zertifikat abgelaufen", "zertifikat ungültig", "certificat expiré", "certificado caducado", "certificado vencido",
			"certificado expirado", "証明書", "证书过期", "证书已过期", "证书无效"},
		[]string{"handshake timeout", "tls handshake timeout", "expired", "expiry", "abgelaufen", "expiré", "caducado", "expirado", "vencido", "过期", "期限切れ", "有効期限"}},
	{"certificate-expiry", `(?:certificate|cert)s? (?:has |is |are |have )?(?:now )?expired|expired_(?:issuer_)?cert|cert(?:ificate)?_expired|expired (?:tls |ssl |x509 |signing |code.signing )?cert|cert_has_expired|certificateexpiredexception|err_cert_date_invalid|sec_error_expired_certificate|current time \S+ is after|notafter|validity check failed|expires? in [0-9]+ (?:day|hour)|cert(?:ificate)? expiry`,
		weights{catCert: 0.65}, 0.05, "an expired TLS certificate", "certificate",
		[]string{"cert_has_expired", "certificateexpiredexception", "err_cert_date_invalid", "sec_error_expired_certificate", "0x800b0101",
			"sec_error_expired_issuer_certificate", "x509_v_err_cert_has_expired",
			"cert_e_expired", "x509_v_err_cert_has_expired", "certificate has expired", "certificate expired", "certificate is expired",
			"zertifikat abgelaufen", "zertifikat ist abgelaufen", "certificat expiré", "certificat a expiré", "certificado caducado",
			"certificado ha caducado", "certificado ha expirado", "certificado expirado", "certificado vencido", "证书过期", "证书已过期",
			"証明書の有効期限", "有効期限が切れ"},
		[]string{"not expired", "expires in 30 days", "expires in 60 days", "expires in 90 days"}},
	{"connection", `connection refused|econnrefused|upstream (?:connect )?(?:error|unavailable|timed out)|no healthy upstream|dial tcp|connection reset|broken pipe|circuit breaker|dependency (?:down|unavailable|failing)|failed to connect|could not connect|could not be established|host unreachable`,
		weights{catDep: 0.45, catInfra: 0.1}, 0.25, "a dependency refusing or dropping connections", "",
		[]string{"econnrefused", "econnreset", "ehostunreach", "enetunreach", "epipe", "connectexception", "connectionrefusederror",
			"connectionreseterror", "no route to host", "14 unavailable", "actively refused", "communicationsexception", "no live upstreams", "mongonetworkerror", "mongoserverselectionerror",
			"communications link failure", "out of available brokers", "brokernotavailable*", "leader not available", "noavailablebrokers*", "verbindung abgelehnt", "connexion refusée", "conexión rechazada",
			"conexão recusada", "接続が拒否", "连接被拒绝", "连接失败"},
		nil},
	{"timeout", `timed? ?out\b|timeouts?\b|deadline ?exceeded|gateway timeout|\b504\b`,
		weights{catDep: 0.35, catInfra: 0.1}, 0.15, "timeouts", "",
		[]string{"etimedout", "deadline_exceeded", "deadlineexceeded", "sockettimeoutexception", "timeoutexception", "readtimeout",
			"zeitüberschreitung", "tiempo de espera agotado", "délai d attente", "tempo limite", "タイムアウト", "超时"},
		nil},
	{"error-rate", `\b5xx\b|\b50[0-3]\b|error rate|errors? (?:spike|increase|ratio)|highrequesterrorrate|http (?:5\d\d|errors)|internal server error|service unavailable`,
		weights{catDep: 0.2}, 0.45, "a spike in server errors", "",
		[]string{"tasa de error", "taxa de erro", "fehlerquote", "taux d erreur", "エラー率", "错误率"}, nil},
	{"latency", `latency|\bp9[59]\b|slow (?:response|request|queries|performance)|response time|highrequestlatency|apdex`,
		weights{catTraffic: 0.25, catResource: 0.2}, 0.15, "high latency", "",
		[]string{"latencia", "latência", "latenz", "レイテンシ", "延迟"}, nil},
	{"crashloop", `crashloopbackoff|crash ?loop|kubepodcrashlooping|back-off restarting|restart(?:ing|ed|s)? (?:loop|repeatedly|several times)|container (?:keeps )?restarting`,
		weights{catResource: 0.3}, 0.5, "a crash loop", "", nil, nil},
	{"panic", `\bpanic(?:ked)?\b|segmentation fault|nil pointer dereference|nullpointerexception|null reference|unhandled exception`,
		weights{catData: 0.15}, 0.55, "crashes in the code (panics, null dereferences)", "",
		[]string{"sigsegv", "segfault", "nullreferenceexception", "nullpointerexception", "unwrap", "core dumped"}, nil},
	{"image-pull", `imagepullbackoff|errimagepull|image ?pull|pull(?:ing)? image|manifest unknown|exec format error|failed to (?:fetch|pull) (?:image|manifest)`,
		weights{catDep: 0.3}, 0.6, "containers failing to pull their image", "image", nil,
		[]string{"toomanyrequests", "pull rate limit", "no space left on device"}},
	{"registry-limit", `pull rate limit|toomanyrequests`,
		weights{catDep: 0.6}, 0.1, "the image registry refusing pulls (rate limit)", "image", []string{"toomanyrequests"}, nil},
	{"scheduling", `\bpending\b|failedscheduling|unschedulable|kubepodnotready|insufficient (?:cpu|memory)|containercreating|pods? (?:are )?not ready|exceeded quota|didn't match`,
		weights{catResource: 0.3, catInfra: 0.15}, 0.4, "pods unable to be scheduled or become ready", "scheduling", nil, nil},
	{"init-container", `kubecontainerwaiting|init container|init:crashloopbackoff|podinitializing|containers? waiting`,
		weights{catResource: 0.1}, 0.45, "containers stuck waiting to start", "", nil, nil},
	{"missing-workload", `missing from (?:the )?cluster|no \S+ pods running|\b0 (?:pods )?running|replicas unavailable|zero addresses`,
		weights{catInfra: 0.15}, 0.5, "workloads missing or deleted", "release", nil, nil},
	{"dns", `\bdns\b|nxdomain|coredns|kube-dns|no such host|name resolution|could not resolve|unable to resolve|servfail|getaddrinfo|enotfound|eai_again|server misbehaving|lookup \S+ on \S+:53\b`,
		weights{catInfra: 0.55}, 0.2, "DNS resolution failures", "dns",
		[]string{"nxdomain", "servfail", "enotfound", "eai_again", "eai_noname", "unknownhostexception", "name or service not known",
			"no such host is known", "temporary failure in name resolution", "server misbehaving", "namensauflösung", "résolution dns", "resolución dns",
			"名前解決", "域名解析", "解析失败"},
		nil},
	{"node", `node ?not ?ready|\bnotready\b|kubenodenotready|kubelet|\bpleg\b|nodes? (?:\S+ ){0,4}(?:down|unreachable|unhealthy|unresponsive)|hosts? (?:are |is )?(?:down|unreachable|not responding)|vcenter (?:is )?(?:unreachable|down)|esxi hosts? (?:down|not responding|disconnected)|instance (?:\S+ )?(?:retire|retirement|unreachable|status check|stopped)|status ?check ?failed|system reachability|failedattachvolume|multi-attach error|failedmount|mountvolume\.\w+ failed|volume .{0,20}(?:attach|mount)(?:ing)? (?:failed|timed out)|schedulingdisabled`,
		weights{catInfra: 0.55, catResource: 0.15}, 0.15, "a node problem", "node",
		[]string{"bugcheck", "kernel panic", "page_fault_in_nonpaged_area", "hosts unreachable", "hôtes injoignables", "hosts inalcanzables",
			"实例不可用", "インスタンス停止"},
		nil},
	{"network", `packet (?:loss|corruption|retransmission|drop)|network (?:partition|unreachable|latency|delay|loss|issue|error)|no route to host|targets? (?:unhealthy|not available|deregistered)|no healthy targets|unhealthyhostcount|availability zone|tcp retransmi|\bbgp\b.{0,40}(?:down|flap|idle|reset|withdraw|lost)|hold timer expired`,
		weights{catInfra: 0.5}, 0.15, "a network or load-balancer problem", "network",
		[]string{"packet_loss", "paketverlust", "pérdida de paquetes", "perte de paquets", "パケットロス", "丢包",
			"lost connectivity", "connectivity lost", "loss of connectivity", "network partition", "links down", "link down",
			"verbindung verloren", "perte de connectivité", "pérdida de conectividad", "ネットワーク分断", "网络中断"}, []string{"mongonetworkerror"}},
	{"hardware", `i/o error|blk_update_request|ext4-fs error|xfs.{0,20}(?:corruption|i/o error)|buffer i/o error|medium error|smart (?:failure|error|overall-health.{0,20}fail)|(?:disk|drive|ssd|nvme|dimm|psu|fan) (?:failure|failed|fault)|(?:disks?|drives?|ssds?) .{0,30}(?:report )?failed|raid (?:degraded|failed|rebuild)|degraded array|hardware (?:failure|error|fault)|machine check|\bmce\b|uncorrectable (?:ecc|memory)|\bedac\b|volume (?:status:? )?impaired|impaired (?:volume|instance)|io-enabled:? false|underlying hardware|degraded hardware|ata\d+(?:\.\d+)?: (?:failed command|serror|exception)|smart[_ ]power[_ ]on[_ ]hours`,
		weights{catInfra: 0.6}, 0.05, "a hardware failure (disk or memory errors)", "node",
		[]string{"blk_update_request", "eio", "medium error", "uncorrectable", "hardware failure", "hardware error", "ハードウェア障害", "硬件故障", "磁盘故障", "ディスク障害", "hardwarefehler", "panne matérielle", "fallo de hardware", "falha de hardware"},
		[]string{"no errors", "0 errors"}},
	{"datacenter", `power (?:loss|lost|failure|outage|disruption)|utility (?:feed|power)|generator (?:fault|failure)|\bups\b|cooling (?:failure|system)|overheat|thermal event|data ?cent(?:er|re) (?:fire|outage)`,
		weights{catInfra: 0.6}, 0.05, "a data-centre power or cooling failure", "datacenter",
		[]string{"overheating", "incendie", "stromausfall", "corte de energía", "温度过高", "機房", "停電"}, nil},
	{"clock", `clock (?:skew|drift)|time (?:skew|drift)|leap second|requesttimetooskewed|krb_ap_err_skew|not yet valid|ntp (?:sync|unsynchroni[sz]ed)`,
		weights{catInfra: 0.5}, 0.1, "clock problems (skew, leap second)", "clock",
		[]string{"requesttimetooskewed", "krb_ap_err_skew", "clock_unsynchronized", "leap second", "clock skew", "time drift",
			"token used before issued", "token is not valid yet", "nbf", "ntp offset", "uhrzeit", "時刻ずれ", "时钟偏差"},
		[]string{"expired or is not yet valid"}},
	{"replication", `replication (?:lag|delay|broken|error)|replica lag|seconds.behind.master|replica (?:out of sync|lagging)`,
		weights{catData: 0.55}, 0.1, "replication lag", "database", nil, nil},
	{"queue", `queue (?:backlog|depth|size|full)|consumer (?:group )?lag|\blag\b.{0,20}(?:kafka|consumer|topic)|(?:kafka|topic).{0,30}\blag\b|backlog|dead.?letter`,
		weights{catTraffic: 0.3, catDep: 0.3}, 0.1, "a queue backlog", "queue", nil, nil},
	{"throttling", `rate.?limit(?:ed|ing)?|\b429\b|too ?many ?requests|request limit|rate exceeded|requests? (?:are |were )?throttled|throttled by|api throttling`,
		weights{catTraffic: 0.4}, 0.1, "rate limiting or throttling", "",
		[]string{"throttlingexception", "requestlimitexceeded", "slowdown", "toomanyrequestsexception", "provisionedthroughputexceededexception"},
		[]string{"pull rate limit"}},
	{"quota", `quota (?:'[^']*' |"[^"]*" |\S+ )?(?:exceeded|exhausted)|resource_exhausted|limit exceeded|exceeded (?:the )?quota`,
		weights{catResource: 0.5, catTraffic: 0.1}, 0.2, "a quota or hard limit reached", "quota",
		[]string{"resource_exhausted", "quotaexceeded*", "limitexceeded*", "error 1114", "table is full", "concurrency limit", "servicequotaexceeded*"}, nil},
	{"traffic-surge", `traffic (?:spike|surge|increase)|request (?:surge|spike|flood)|flood|load (?:spike|surge)|hpa (?:maxed|at max)|kubehpamaxedout|requests per second|\bddos\b`,
		weights{catTraffic: 0.55}, 0.1, "a traffic surge", "",
		[]string{"ddos", "reflection", "amplification", "syn flood", "thundering herd", "bot_share_pct", "volumetric", "null route", "nullroute*",
			"blackholed", "inbound saturated", "interfaceinboundsaturated", "one user agent", "single user agent", "top_ua_share", "single client",
			"scraper", "crawler traffic", "bot traffic"}, []string{"flood stage", "flood_stage"}},
	{"data", `data corruption|corrupt(?:ed|ion)|can'?t convert .{0,40} to (?:long|int|integer|number)|arithmetic overflow|numeric value out of range|value too large for|out of range for type|is out of range for|out of range value|\b214748364[78]\b|2,147,483,64[78]|\b4294967295\b|schema (?:mismatch|error|validation)|migration (?:failed|error)|constraint violation|checksum (?:mismatch|error)|duplicate key|deadlock|inconsistent data|(?:column|relation|table) "?[\w.]+"? does not exist`,
		weights{catData: 0.5}, 0.3, "data or schema problems", "database",
		[]string{"wraparound", "integer overflow", "out of range value", "data directory", "pg_control", "sqlstate 23505", "foreign key",
			"lock wait", "lock waits", "column does not exist", "unknown column", "undefinedcolumn", "relation does not exist",
			"no such column", "no such table", "invalid input syntax", "jsonparseexception", "jsondecodeerror", "unmarshal",
			"deserialization", "malformed", "arithmetic overflow", "rangeerror", "integer out of range", "er_warn_data_out_of_range", "numberformatexception", "overflowexception", "mismatchedinputexception", "invalidformatexception", "jsonmappingexception",
			"cannot deserialize", "unicodedecodeerror", "malformedinputexception", "invalid start byte", "invalid utf-8", "invalid byte sequence", "datenbank beschädigt", "données corrompues", "datos corruptos", "データ破損", "数据损坏"},
		nil},
	{"auth", `authentication (?:failed|failure|error)|credentials invalid|unauthori[sz]ed|\b401\b|\b403\b|access ?denied|accessdenied|permission denied|not authorized|invalid (?:credentials|password|token|api key)|login attempts|wrongpass|noauth|expired token|assume ?role|nocredentialproviders`,
		weights{catDep: 0.25}, 0.45, "authentication failures", "auth",
		[]string{"securitytokensignaturekeynotfoundexception", "idx10501", "invalid_grant", "signature validation failed"}, nil},
	{"db-connections", `too many connections|connection pool (?:exhausted|full|timeout)|max_connections|connection limit|remaining connection slots|rejected connections|connections? (?:has |have )?(?:been |were |are )?rejected`,
		weights{catResource: 0.55, catDep: 0.1}, 0.1, "connection pool exhaustion", "database",
		[]string{"too many clients", "hikaripool*", "connection is not available", "queuepool limit", "max number of clients",
			"pool exhausted", "pool timeout", "timeout acquiring connection", "unable to acquire connection", "er_con_count_error"}, nil},
	{"saturation", `rejected execution|thread ?pool (?:exhausted|starvation|full)|slots? exhausted|no free (?:server )?slot|worker_connections are not enough|worker connections are not enough|unable to create (?:new )?native thread|surge ?queue|spillover ?count`,
		weights{catResource: 0.5, catTraffic: 0.1}, 0.15, "worker, thread or queue capacity exhausted", "",
		[]string{"rejectedexecutionexception", "es_rejected_execution_exception", "threadpool starvation", "surgequeuelength", "spillovercount",
			"max_worker_threads", "too many threads"}, nil},
	{"db-down", `database (?:is )?(?:down|unavailable|unreachable)|database connection (?:failed|lost|closed)|\bdb (?:down|closed|unavailable)|could not connect to (?:server|database)|\brds\b.{0,30}(?:unavailable|down|failover)|database system is (?:in recovery|shutting down|starting up)|cluster is down|not enough replicas|read only replica`,
		weights{catDep: 0.5}, 0.1, "the database being unavailable", "database",
		[]string{"in recovery mode", "clusterdown", "notprimary*", "notwritableprimary", "not primary", "not master", "notmasternoslaveok",
			"unavailableexception", "notleaderorfollower*", "notleaderforpartition*", "leader not available", "read only replica",
			"the database system is shutting down", "the database system is starting up"}, nil},
	{"redirect", `too many redirects|redirect loop|err_too_many_redirects|redirects? (?:spik|loop|storm)|\b30[1278]\b[^\n]{0,30}redirect`,
		weights{catInfra: 0.25}, 0.4, "requests redirected in a loop", "ingress", []string{"err_too_many_redirects"}, nil},
	{"no-traffic", `norequestsreceived|no requests|zero requests|traffic dropped|\b404\b|route not found|no (?:ingress )?traffic|not matching any router`,
		weights{catInfra: 0.2}, 0.4, "requests not reaching the service", "ingress", nil, nil},
	{"webhook", `failed calling webhook|admission (?:webhook|controller)|validating ?webhook|mutating ?webhook|denied the request`,
		weights{catDep: 0.2}, 0.5, "an admission webhook blocking API calls", "webhook", nil, nil},
	{"probe", `(?:readiness|liveness|startup) ?probe (?:failed|failure)|probe failed`,
		weights{catResource: 0.2}, 0.3, "failing health probes", "", nil, nil},
	{"logging", `logs? (?:are )?(?:not (?:being )?shipped|missing|dropped|not received)|(?:stopped|not) shipping logs|missing logs|buffer (?:space|overflow|full)`,
		weights{catResource: 0.15}, 0.3, "the log pipeline dropping logs", "logging", []string{"chunks dropped", "gaps in application logs"}, nil},
	{"scrape", `scrape (?:timeout|failed|error)|target ?down|exporter (?:is )?(?:down|up)|metrics (?:missing|not)`,
		weights{catDep: 0.2}, 0.2, "metrics collection failing", "monitoring", nil, nil},
	{"ip-exhaustion", `free ip address|ip (?:address )?exhaust|subnet (?:is )?(?:full|exhaust)|assign an ip address|no (?:available|free) ip|free ?i ?ps? (?:low|exhaust)`,
		weights{catResource: 0.5, catInfra: 0.2}, 0.1, "IP address exhaustion", "network",
		[]string{"insufficientfreeaddressesinsubnet", "subnetfreeipslow", "insufficient free addresses", "no free ips", "ipamd"}, nil},
	{"cloud-capacity", `insufficient\w*capacity|insufficient (?:capacity|instance)|capacity (?:error|unavailable)|sufficient capacity|not have enough resources available|resource_pool_exhausted`,
		weights{catInfra: 0.55}, 0.05, "the cloud provider lacking capacity", "",
		[]string{"zone_resource_pool_exhausted", "allocationfailed", "zonalallocationfailed", "overconstrainedallocationrequest",
			"skunotavailable", "insufficientinstancecapacity", "insufficientcapacityerror"}, nil},
	{"provider", `aws (?:health|outage|incident|issue)|provider outage|region(?:al)? outage|cloud provider`,
		weights{catInfra: 0.6}, 0.05, "a cloud provider problem", "", nil, nil},
}

// DefaultSignatures returns a copy of the built-in catalog, for callers who
// want to extend it through Options.Signatures.
func DefaultSignatures() []Signature {
	out := make([]Signature, len(defaultSignatures))
	for i, s := range defaultSignatures {
		s.Weights = copyWeights(s.Weights)
		s.Tokens = append([]string(nil), s.Tokens...)
		s.Contradict = append([]string(nil), s.Contradict...)
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
	// tokens and contra are Tokens and Contradict, ready to match.
	tokens, contra tokenSet
}

// found reports whether the signature occurs in one piece of text (an
// alert or a title), given both its lower-cased form and its words: by its
// pattern or by one of its tokens, and not contradicted there.
func (s *compiledSignature) found(lower string, w wordText) bool {
	return s.foundIn(lower, w, true)
}

// foundIn is found, trying the pattern only when tryPattern is set (it is
// not when the pattern already failed on all the incident's text).
func (s *compiledSignature) foundIn(lower string, w wordText, tryPattern bool) bool {
	if !((tryPattern && s.re != nil && s.match(lower)) || s.matchTokens(w)) {
		return false
	}
	_, contradicted := s.contra.match(w)
	return !contradicted
}

// matchTokens reports whether one of the signature's tokens occurs in w.
func (s *compiledSignature) matchTokens(w wordText) bool {
	_, ok := s.tokens.match(w)
	return ok
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
		out = append(out, compiledSignature{Signature: s, re: regexp.MustCompile(s.Pattern), hints: literalHints(s.Pattern),
			tokens: compileTokens(s.Tokens), contra: compileTokens(s.Contradict)})
	}
	return out
}

// compile compiles caller-supplied signatures case-insensitively, dropping
// any with neither a valid pattern nor tokens (a pattern that is too long or
// invalid counts as none): a bad entry in a customer's catalog must not stop
// triage.
func compile(sigs []Signature) []compiledSignature {
	out := make([]compiledSignature, 0, len(sigs))
	for _, s := range sigs {
		re := compileUserRegexp(s.Pattern)
		toks := compileTokens(s.Tokens)
		if re == nil && toks.empty() {
			continue
		}
		out = append(out, compiledSignature{Signature: s, re: re, tokens: toks, contra: compileTokens(s.Contradict)})
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
