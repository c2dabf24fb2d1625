package triage

import (
	"testing"

	"github.com/novasre/nova"
)

// TestMonitoringToolPhrasebook holds the details reader to alerts as
// monitoring tools send them, under a summary that names only the service:
// CloudWatch alarms (threshold reasons with several datapoints and exponent
// numbers), Prometheus rules from the common mixins (camel-case alertnames,
// descriptions with percentages), Datadog monitors (value and threshold).
func TestMonitoringToolPhrasebook(t *testing.T) {
	R, C := nova.CategoryResource, nova.CategoryCertificate
	want := []nova.Category{R, R, R, R, R, R, R, R, R, C, R}
	tests := []map[string]string{
		{"MetricName": "CPUUtilization", "NewStateReason": "Threshold Crossed: 3 out of the last 3 datapoints [97.2 (01/12/26 10:02:00), 96.8 (01/12/26 10:01:00)] were greater than or equal to the threshold (90.0) (minimum 3 datapoints for OK -> ALARM transition).", "Threshold": "90", "Namespace": "AWS/EC2"},
		{"MetricName": "FreeStorageSpace", "NewStateReason": "Threshold Crossed: 1 datapoint [1.2E9 (01/12/26 10:02:00)] was less than or equal to the threshold (5.0E9).", "Namespace": "AWS/RDS"},
		{"MetricName": "DatabaseConnections", "NewStateReason": "Threshold Crossed: 1 datapoint [1998.0] was greater than or equal to the threshold (1900.0).", "Namespace": "AWS/RDS"},
		{"alertname": "KubeContainerOOMKilled", "namespace": "shop", "container": "api"},
		{"alertname": "NodeFilesystemSpaceFillingUp", "mountpoint": "/var/lib/docker", "value": "3.2", "description": "Filesystem on /dev/nvme0n1 at 10.0.3.4:9100 has only 3.20% available space left and is filling up."},
		{"alertname": "HostHighCpuLoad", "value": "97.3"},
		{"monitor": "[Triggered] Max memory utilization above 95% on api", "value": "98.2", "threshold": "95", "tags": "env:prod,service:api"},
		{"alertname": "PostgresqlTooManyConnections", "description": "PostgreSQL instance has too many connections (> 80%). VALUE = 97"},
		{"alertname": "KubePersistentVolumeFillingUp", "description": "The PersistentVolume claimed by data-kafka-0 in Namespace kafka is only 1.2% free."},
		{"alertname": "BlackboxSslCertificateWillExpireSoon", "description": "SSL certificate expires in 2 days"},
		{"alertname": "RedisRejectedConnections", "description": "Some connections to Redis has been rejected"},
	}
	for i, d := range tests {
		in := Input{
			Incident: nova.Incident{ID: "Q1", Title: "checkout alert"},
			Alerts:   []nova.Alert{{ID: "A1", Summary: "checkout alert", Details: d}},
		}
		res := Analyze(in, Options{}, now0)
		if top := res.Top(); top == nil || top.Category != want[i] || res.Abstained {
			t.Errorf("%v: top = %s, want %s", d, describeTop(res), want[i])
		}
	}
}
