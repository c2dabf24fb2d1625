//go:build !linux

package e2e

import "syscall"

// childProcAttr is empty where there is no parent-death signal; children
// still stop at cleanup.
func childProcAttr() *syscall.SysProcAttr { return nil }
