package main

import (
	"net"
	"net/http"
	"time"
)

// httpServer is a small HTTP server on a free loopback port.
type httpServer struct {
	URL string
	srv *http.Server
}

func newLoopbackServer(h http.Handler) *httpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("listen on loopback: " + err.Error())
	}
	s := &httpServer{URL: "http://" + ln.Addr().String(), srv: &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}}
	go func() { _ = s.srv.Serve(ln) }()
	return s
}

// Close stops the server.
func (s *httpServer) Close() { _ = s.srv.Close() }
