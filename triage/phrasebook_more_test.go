package triage

import (
	"testing"

	"github.com/novasre/nova"
)

// TestPlatformPhrasebook extends TestRuntimePhrasebook to what orchestrators,
// databases, queues, proxies, CDNs and cloud platforms report, as they
// report it (Kubernetes events, PostgreSQL, MySQL, MongoDB, Redis,
// Cassandra, Elasticsearch and Kafka errors, nginx/HAProxy/Envoy logs, CDN
// error pages, cloud API error codes and metrics).
func TestPlatformPhrasebook(t *testing.T) {
	R, C, D, I, T, X := nova.CategoryResource, nova.CategoryCertificate, nova.CategoryDependency,
		nova.CategoryInfrastructure, nova.CategoryTraffic, nova.CategoryData
	tests := []phrase{
		// Kubernetes.
		{"Warning FailedScheduling: 0/6 nodes are available: 6 Insufficient memory.", []nova.Category{R}},
		{"Warning Evicted: The node had condition: [DiskPressure].", []nova.Category{R}},
		{"Warning FailedAttachVolume: Multi-Attach error for volume \"pvc-3f1c\" Volume is already exclusively attached to one node", []nova.Category{I}},
		{"Warning FailedCreatePodSandBox: Failed to create pod sandbox: failed to setup network for sandbox: plugin type=\"aws-cni\" failed (add): add cmd: failed to assign an IP address to container", []nova.Category{R, I}},
		{"etcdserver: mvcc: database space exceeded", []nova.Category{R}},
		{"kubelet: container runtime is down, PLEG is not healthy: pleg was last seen active 3m0s ago", []nova.Category{I}},
		{"ata1.00: failed command: READ FPDMA QUEUED; ata1: SError: { Handshk }", []nova.Category{I}},
		{"vCenter unreachable: 0 ESXi hosts reporting", []nova.Category{I}},
		// Databases.
		{"ERROR: canceling statement due to statement timeout", []nova.Category{R, D, X}},
		{"ERROR: deadlock detected (SQLSTATE 40P01)", []nova.Category{X}},
		{"FATAL: the database system is in recovery mode", []nova.Category{D, I}},
		{"ERROR: database is not accepting commands to avoid wraparound data loss in database \"orders\"", []nova.Category{X}},
		{"ERROR 1205 (HY000): Lock wait timeout exceeded; try restarting transaction", []nova.Category{X}},
		{"ERROR 1114 (HY000): The table 'events' is full", []nova.Category{R}},
		{"MongoNetworkError: failed to connect to server [mongo-0.mongo:27017] on first connect", []nova.Category{D}},
		{"MongoServerError: not primary and secondaryOk=false", []nova.Category{D, I}},
		{"READONLY You can't write against a read only replica.", []nova.Category{D, I}},
		{"MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk.", []nova.Category{R}},
		{"CLUSTERDOWN The cluster is down", []nova.Category{D, I}},
		{"com.datastax.driver.core.exceptions.UnavailableException: Not enough replicas available for query at consistency QUORUM (2 required but only 1 alive)", []nova.Category{D, I}},
		{"cluster_block_exception: index [logs-2026.12.01] blocked by: [FORBIDDEN/12/index read-only / allow delete (api)]", []nova.Category{R}},
		{"circuit_breaking_exception: [parent] Data too large, data for [<http_request>] would be [8.1gb], which is larger than the limit of [7.9gb]", []nova.Category{R}},
		{"es_rejected_execution_exception: rejected execution of coordinating operation, queue capacity 1000", []nova.Category{R, T}},
		{"org.apache.kafka.common.errors.NotLeaderOrFollowerException: For requests intended only for the leader", []nova.Category{D, I}},
		{"The FIP-FS Scan Engine failed to load. Error Description: Can't convert \"2201010001\" to long.", []nova.Category{X}},
		{"System.OverflowException: Arithmetic operation resulted in an overflow.", []nova.Category{X}},
		{"ActiveModel::RangeError: 2147483648 is out of range for ActiveModel::Type::Integer with limit 4 bytes", []nova.Category{X}},
		{"ERROR 1264 (22003): Out of range value for column 'id' at row 1", []nova.Category{X}},
		{"AddonVerificationError: signature could not be verified (SEC_ERROR_EXPIRED_ISSUER_CERTIFICATE)", []nova.Category{C}},
		{"ipamd: InsufficientFreeAddressesInSubnet: no free IPs in subnet-0a1b", []nova.Category{R}},
		{"Upstream NOC notice: traffic to your prefix blackholed (null route) due to volumetric attack", []nova.Category{T}},
		// Queues and pools.
		{"java.util.concurrent.RejectedExecutionException: Task rejected from ThreadPoolExecutor[Running, pool size = 200, active threads = 200, queued tasks = 10000]", []nova.Category{R}},
		{"java.lang.OutOfMemoryError: unable to create native thread: possibly out of memory or process/resource limits reached", []nova.Category{R}},
		// Proxies and CDNs.
		{"upstream timed out (110: Connection timed out) while reading response header from upstream, upstream: \"http://10.0.3.7:8080/api\"", []nova.Category{D}},
		{"no live upstreams while connecting to upstream, upstream: \"http://checkout_backend/\"", []nova.Category{D}},
		{"1024 worker_connections are not enough", []nova.Category{R}},
		{"503 Service Unavailable: No server is available to handle this request. (haproxy backend api has no server available!)", []nova.Category{D}},
		{"Error 522: Connection timed out between Cloudflare and the origin web server", []nova.Category{D}},
		{"Error 526: Invalid SSL certificate at the origin", []nova.Category{C}},
		{"Error 525: SSL handshake failed between Cloudflare and the origin", []nova.Category{C}},
		// Cloud platforms.
		{"Quota 'CPUS' exceeded. Limit: 24.0 in region us-central1.", []nova.Category{R}},
		{"ZONE_RESOURCE_POOL_EXHAUSTED: The zone 'projects/p/zones/us-central1-a' does not have enough resources available to fulfill the request", []nova.Category{I}},
		{"AllocationFailed: Allocation failed. We do not have sufficient capacity for the requested VM size in this region.", []nova.Category{I}},
		{"Task timed out after 30.03 seconds", []nova.Category{D}},
		{"Runtime exited with error: signal: killed (Max Memory Used: 1024 MB of 1024 MB)", []nova.Category{R}},
		{"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref: 429 Too Many Requests - toomanyrequests", []nova.Category{D}},
		{"CPUCreditBalance is 0 on i-0abc (t3.large): CPU throttled to baseline", []nova.Category{R}},
		{"BurstBalance 0% on vol-0abc (gp2): IOPS throttled to baseline", []nova.Category{R}},
		{"SurgeQueueLength 1024 and SpilloverCount 3100 on load balancer api-prod", []nova.Category{R, T}},
	}
	checkPhrasebook(t, tests)
}
