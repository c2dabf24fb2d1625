package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gorilla/mux"

	"github.com/novasre/nova/internal/e2e"
)

// baselineCommand is the hidden subcommand that runs the baseline server.
const baselineCommand = "baseline-server"

// baselineListening is the log message carrying the baseline's address.
const baselineListening = "baseline listening"

// serveBaseline is the yardstick for ingress: the same kind of server Nova
// runs (net/http, gorilla/mux, the route POST /webhooks/pagerduty/{environment},
// the same server timeouts), reading the body and answering 202, but with
// no signature check, no decoding and no store. The ratio of Nova's figures
// to these is what verification and persistence cost. It stops on SIGTERM,
// or by itself after -max-lifetime so it can never linger.
func serveBaseline(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(baselineCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	lifetime := fs.Duration("max-lifetime", 30*time.Minute, "exit after this long even without SIGTERM")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(stderr, "baseline: %v\n", err)
		return 1
	}
	accepted := []byte(`{"result":"accepted"}` + "\n")
	r := mux.NewRouter()
	r.HandleFunc("/webhooks/pagerduty/{environment}", func(w http.ResponseWriter, req *http.Request) {
		_ = mux.Vars(req)["environment"] // routed like Nova's, variable and all
		// Read the body as Nova must before it can verify it.
		_, _ = io.Copy(io.Discard, io.LimitReader(req.Body, 1<<20))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write(accepted)
	}).Methods(http.MethodPost)
	srv := &http.Server{
		Handler:           r,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *lifetime)
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	line, _ := json.Marshal(map[string]string{"msg": baselineListening, "addr": ln.Addr().String()})
	fmt.Fprintf(stderr, "%s\n", line)
	select {
	case err := <-served:
		fmt.Fprintf(stderr, "baseline: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	shut, cancelShut := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelShut()
	_ = srv.Shutdown(shut)
	return 0
}

// startBaseline re-executes this binary as the baseline server.
func (b *bench) startBaseline() (*e2e.Process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	return b.startChild("baseline", self, []string{baselineCommand}, baselineListening)
}
