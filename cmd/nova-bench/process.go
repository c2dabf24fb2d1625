package main

import (
	"fmt"
	"os"
	"time"

	"github.com/novasre/nova/internal/e2e"
)

// startChild runs bin with args as a server under test (Nova, or the
// baseline), its log in a file of the bench's directory, and waits until it
// logs listenMsg with an addr field (JSON), as Nova does with "nova
// listening". It is stopped with SIGTERM, and killed after 40 s.
func (b *bench) startChild(name, bin string, args []string, listenMsg string) (*e2e.Process, error) {
	logPath := fmt.Sprintf("%s/%s-%d.log", b.tmp, name, time.Now().UnixNano())
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	p, err := e2e.Start(b.ctx, name, bin, args, logFile, listenMsg, 30*time.Second)
	if err != nil {
		logFile.Close()
		return nil, err
	}
	go func() { <-p.Done(); logFile.Close() }()
	return p, nil
}
