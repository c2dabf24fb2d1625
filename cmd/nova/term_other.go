//go:build !linux

package main

import (
	"bufio"
	"os"
)

// isTerminal is false off Linux: the token is read as a plain line (set
// NOVA_PAGERDUTY_ADMIN_TOKEN to keep it off the screen).
func isTerminal(*os.File) bool { return false }

func readSecretLine(f *os.File) (string, error) { return bufio.NewReader(f).ReadString('\n') }
