package triage

import (
	"testing"

	"github.com/novasre/nova"
)

// TestRuntimePhrasebook holds the signature catalog to error messages as
// real runtimes, databases, orchestrators and cloud SDKs print them, and to
// alerts in the languages on-call teams write them in. The strings come from
// the runtimes' own messages (Go's net and crypto/x509, the JDK, CPython,
// Node's libuv codes, .NET, PostgreSQL, MySQL, Redis, Kafka, Kubernetes, AWS
// SDK error codes, gRPC status names), not from the evaluation corpus, so
// that the catalog is built for incidents it has not seen.
func TestRuntimePhrasebook(t *testing.T) {
	R, C, D, I, T, X := nova.CategoryResource, nova.CategoryCertificate, nova.CategoryDependency,
		nova.CategoryInfrastructure, nova.CategoryTraffic, nova.CategoryData
	tests := []phrase{
		// Memory.
		{"java.lang.OutOfMemoryError: GC overhead limit exceeded", []nova.Category{R}},
		{"java.lang.OutOfMemoryError: Metaspace", []nova.Category{R}},
		{"FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory", []nova.Category{R}},
		{"fatal error: runtime: out of memory", []nova.Category{R}},
		{"Traceback (most recent call last): ... MemoryError", []nova.Category{R}},
		{"System.OutOfMemoryException: Exception of type 'System.OutOfMemoryException' was thrown.", []nova.Category{R}},
		{"Memory cgroup out of memory: Killed process 4121 (java) total-vm:8123456kB", []nova.Category{R}},
		{"Last State: Terminated, Reason: OOMKilled, Exit Code: 137", []nova.Category{R}},
		{"OOM command not allowed when used memory > 'maxmemory'", []nova.Category{R}},
		{"The node was low on resource: memory. Container api was using 2Gi, which exceeds its request of 512Mi.", []nova.Category{R}},
		// Disk.
		{"Error: ENOSPC: no space left on device, write", []nova.Category{R}},
		{"OSError: [Errno 28] No space left on device: '/var/lib/app/tmp'", []nova.Category{R}},
		{"PANIC: could not write to file \"pg_wal/xlogtemp.123\": No space left on device", []nova.Category{R}},
		{"Pod ephemeral local storage usage exceeds the total limit of containers 1Gi", []nova.Category{R}},
		{"flood stage disk watermark [95%] exceeded on node es-data-3, all indices on this node will be marked read-only", []nova.Category{R}},
		// File descriptors and sockets.
		{"Error: EMFILE: too many open files, open '/app/views/index.html'", []nova.Category{R}},
		{"http: Accept error: accept tcp [::]:8080: accept4: too many open files; retrying in 1s", []nova.Category{R}},
		{"java.net.SocketException: Too many open files", []nova.Category{R}},
		{"OSError: [Errno 24] Too many open files", []nova.Category{R}},
		{"dial tcp 10.0.4.5:443: connect: cannot assign requested address", []nova.Category{R}},
		// Connection pools and server connection limits.
		{"pq: sorry, too many clients already", []nova.Category{R}},
		{"FATAL: remaining connection slots are reserved for non-replication superuser connections", []nova.Category{R}},
		{"ERROR 1040 (HY000): Too many connections", []nova.Category{R}},
		{"HikariPool-1 - Connection is not available, request timed out after 30000ms.", []nova.Category{R}},
		{"sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30", []nova.Category{R}},
		{"ERR max number of clients reached", []nova.Category{R}},
		// CPU.
		{"CPUThrottlingHigh: 87% throttling of CPU in namespace shop for container api in pod api-7d9f", []nova.Category{R}},
		// Certificates and TLS.
		{"javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target", []nova.Category{C}},
		{"java.security.cert.CertificateExpiredException: NotAfter: Sat Mar 14 23:59:59 UTC 2026", []nova.Category{C}},
		{"ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:1006)", []nova.Category{C}},
		{"Error: certificate has expired (code: 'CERT_HAS_EXPIRED')", []nova.Category{C}},
		{"Error: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)", []nova.Category{C}},
		{"System.Security.Authentication.AuthenticationException: The remote certificate is invalid according to the validation procedure: RemoteCertificateNameMismatch", []nova.Category{C}},
		{"x509: certificate signed by unknown authority", []nova.Category{C}},
		{"x509: certificate is valid for *.shop.example, not api.pay.example", []nova.Category{C}},
		{"tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2026-03-15T00:01:02Z is after 2026-03-14T23:59:59Z", []nova.Category{C}},
		{"curl: (60) SSL certificate problem: certificate has expired", []nova.Category{C}},
		{"SSL certificate for checkout.example.com expires in 3 days", []nova.Category{C}},
		{"remote error: tls: bad certificate", []nova.Category{C}},
		// Refused and reset connections.
		{"dial tcp 10.0.3.4:5432: connect: connection refused", []nova.Category{D}},
		{"java.net.ConnectException: Connection refused (Connection refused)", []nova.Category{D}},
		{"ConnectionRefusedError: [Errno 111] Connection refused", []nova.Category{D}},
		{"Error: connect ECONNREFUSED 10.0.0.12:6379", []nova.Category{D}},
		{"System.Net.Http.HttpRequestException: No connection could be made because the target machine actively refused it. (inventory:8080)", []nova.Category{D}},
		{"rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing: dial tcp 10.1.2.3:50051: connect: connection refused\"", []nova.Category{D}},
		{"upstream connect error or disconnect/reset before headers. reset reason: connection failure", []nova.Category{D}},
		{"Error: read ECONNRESET", []nova.Category{D}},
		{"redis.exceptions.ConnectionError: Error 111 connecting to redis:6379. Connection refused.", []nova.Category{D}},
		{"kafka: client has run out of available brokers to talk to", []nova.Category{D}},
		{"com.mysql.cj.jdbc.exceptions.CommunicationsException: Communications link failure", []nova.Category{D}},
		{"psycopg2.OperationalError: could not connect to server: Connection refused. Is the server running on host \"orders-db\" and accepting TCP/IP connections on port 5432?", []nova.Category{D}},
		{"503 Service Unavailable: no healthy upstream", []nova.Category{D}},
		// Timeouts.
		{"rpc error: code = DeadlineExceeded desc = context deadline exceeded", []nova.Category{D}},
		{"java.net.SocketTimeoutException: Read timed out", []nova.Category{D}},
		{"requests.exceptions.ReadTimeout: HTTPConnectionPool(host='pricing', port=80): Read timed out. (read timeout=5)", []nova.Category{D}},
		{"System.Threading.Tasks.TaskCanceledException: The request was canceled due to the configured HttpClient.Timeout of 100 seconds elapsing.", []nova.Category{D}},
		{"Error: connect ETIMEDOUT 10.2.0.7:443", []nova.Category{D}},
		// Name resolution.
		{"dial tcp: lookup payments.svc.cluster.local on 10.96.0.10:53: no such host", []nova.Category{I}},
		{"java.net.UnknownHostException: ledger.internal: Name or service not known", []nova.Category{I}},
		{"Error: getaddrinfo EAI_AGAIN redis.cache.svc.cluster.local", []nova.Category{I}},
		{"socket.gaierror: [Errno -3] Temporary failure in name resolution", []nova.Category{I}},
		{"System.Net.Sockets.SocketException (11001): No such host is known.", []nova.Category{I}},
		{"dial tcp: lookup orders-db on 127.0.0.11:53: server misbehaving", []nova.Category{I}},
		// Nodes, network, clocks.
		{"Node ip-10-0-7-12.ec2.internal status is now: NodeNotReady", []nova.Category{I}},
		{"Kubelet stopped posting node status.", []nova.Category{I}},
		{"EC2 instance i-0a1b2c3d status check failed (system reachability)", []nova.Category{I}},
		{"Packet loss 14% between eu-west-1a and eu-west-1b", []nova.Category{I}},
		{"BGP session to 169.254.10.1 went down (Hold Timer Expired)", []nova.Category{I}},
		{"NTP offset 4.2s on host db-3 exceeds 500ms", []nova.Category{I}},
		{"RequestTimeTooSkewed: The difference between the request time and the current time is too large.", []nova.Category{I}},
		{"clock skew detected: local time is 3m12s ahead of the cluster", []nova.Category{I}},
		// Rate limits and quotas.
		{"ThrottlingException: Rate exceeded", []nova.Category{T, R}},
		{"ProvisionedThroughputExceededException: The level of configured provisioned throughput for the table was exceeded.", []nova.Category{T, R}},
		{"RequestLimitExceeded: Request limit exceeded.", []nova.Category{T, R}},
		{"rpc error: code = ResourceExhausted desc = Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute'", []nova.Category{T, R}},
		{"HTTP 429 Too Many Requests", []nova.Category{T}},
		{"LimitExceededException: Account concurrency limit reached (ConcurrentExecutions 1000)", []nova.Category{R, T}},
		// Data and schemas.
		{"ERROR: duplicate key value violates unique constraint \"orders_pkey\" (SQLSTATE 23505)", []nova.Category{X}},
		{"ERROR: column \"customer_ref\" does not exist (SQLSTATE 42703)", []nova.Category{X}},
		{"ERROR 1054 (42S22): Unknown column 'discount_code' in 'field list'", []nova.Category{X}},
		{"json: cannot unmarshal string into Go struct field Order.total of type float64", []nova.Category{X}},
		{"com.fasterxml.jackson.databind.exc.MismatchedInputException: Cannot deserialize value of type `java.time.Instant` from String", []nova.Category{X}},
		{"UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte", []nova.Category{X}},
		{"pq: invalid input syntax for type uuid: \"\"", []nova.Category{X}},
		{"ERROR: relation \"invoices_v2\" does not exist (SQLSTATE 42P01)", []nova.Category{X}},
		// Other languages.
		{"Zertifikat abgelaufen für api.shop.example", []nova.Category{C}},
		{"Verbindung abgelehnt: orders-db:5432", []nova.Category{D}},
		{"Kein Speicherplatz mehr auf dem Gerät: /var/lib/postgresql", []nova.Category{R}},
		{"certificat expiré pour paiement.example", []nova.Category{C}},
		{"connexion refusée par le serveur stock:8080", []nova.Category{D}},
		{"mémoire insuffisante sur le nœud worker-2", []nova.Category{R}},
		{"el certificado ha caducado: pagos.example", []nova.Category{C}},
		{"conexión rechazada por inventario:8080", []nova.Category{D}},
		{"certificado expirado em api.loja.example", []nova.Category{C}},
		{"conexão recusada: pedidos-db:5432", []nova.Category{D}},
		{"証明書の有効期限が切れています: api.shop.example", []nova.Category{C}},
		{"接続が拒否されました: orders-db:5432", []nova.Category{D}},
		{"ディスク容量が不足しています: /var/log", []nova.Category{R}},
		{"证书已过期: pay.example.cn", []nova.Category{C}},
		{"连接被拒绝: order-db:3306", []nova.Category{D}},
		{"磁盘空间不足: /data", []nova.Category{R}},
	}
	checkPhrasebook(t, tests)
}

// phrase is one message of a phrasebook and the categories an SRE would
// name for it.
type phrase struct {
	text string
	want []nova.Category
}

// checkPhrasebook puts each message in an alert's details as a monitoring
// tool sends it, under a title that names only the check, and wants the top
// hypothesis in one of its categories.
func checkPhrasebook(t *testing.T, tests []phrase) {
	t.Helper()
	for _, tt := range tests {
		in := Input{
			Incident: nova.Incident{ID: "Q1", Title: "checkout: errors above threshold"},
			Alerts:   []nova.Alert{{ID: "A1", Summary: "checkout errors", Details: map[string]string{"error": tt.text}}},
		}
		res := Analyze(in, Options{AbstainBelow: -1}, now0)
		top := res.Top()
		ok := false
		for _, w := range tt.want {
			ok = ok || (top != nil && top.Category == w)
		}
		if !ok {
			t.Errorf("%q: top = %v, want %v", tt.text, describeTop(res), tt.want)
		}
	}
}
