package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/novasre/nova/internal/e2e"
)

// testRedis returns a Redis URL and a fresh key prefix, skipping the test
// when Redis is unreachable (failing under CI=true), and deletes the
// prefix's keys afterwards.
func testRedis(t *testing.T, url, prefix string) (string, string) {
	t.Helper()
	if url == "" {
		url = os.Getenv("NOVA_TEST_REDIS_URL")
	}
	if url == "" {
		url = "redis://127.0.0.1:6379/14"
	}
	if prefix == "" {
		prefix = "e2e-" + randHex(6)
	}
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		if os.Getenv("CI") == "true" {
			t.Fatalf("Redis unreachable under CI=true: %v", err)
		}
		t.Skipf("Redis unreachable: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := c.Keys(ctx, "*"+prefix+"*").Result()
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
		c.Close()
	})
	return url, prefix
}

// httpGet fetches url with an optional bearer key.
func httpGet(t *testing.T, url, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metricValue sums a metric's samples whose labels contain every filter.
func metricValue(t *testing.T, base, name string, filters ...string) float64 {
	t.Helper()
	v, _ := e2e.Metric(base, name, filters...)
	return v
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

func newRequest(method, url string, body io.Reader) (*http.Request, error) {
	return http.NewRequest(method, url, body)
}

// grepLines returns the lines of s containing any of words.
func grepLines(s string, words ...string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, w := range words {
			if strings.Contains(l, w) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// randHex returns n random bytes in hex.
func randHex(n int) string { return e2e.RandHex(n) }

// newLoopbackServer serves h on a free loopback port.
func newLoopbackServer(h http.Handler) *e2e.Server {
	s, err := e2e.NewServer(h)
	if err != nil {
		panic("listen on loopback: " + err.Error())
	}
	return s
}
