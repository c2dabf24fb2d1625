package e2e

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"strings"
	"time"
)

// Server is a small HTTP server on a free loopback port.
type Server struct {
	URL string
	srv *http.Server
}

// NewServer serves h on a free loopback port.
func NewServer(h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + ln.Addr().String(), srv: &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() { _ = s.srv.Close() }

// RandHex returns n random bytes in hex: fresh credentials per installation.
func RandHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// SignPagerDuty is PagerDuty's X-PagerDuty-Signature over body: "v1=" and
// the hex HMAC-SHA256 under each secret, comma-separated (several during a
// rotation).
func SignPagerDuty(body []byte, secrets ...string) string {
	parts := make([]string, 0, len(secrets))
	for _, s := range secrets {
		m := hmac.New(sha256.New, []byte(s))
		m.Write(body)
		parts = append(parts, "v1="+hex.EncodeToString(m.Sum(nil)))
	}
	return strings.Join(parts, ",")
}
